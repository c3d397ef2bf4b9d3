//! Fuzz bytes as a stream of choices. An exhausted reader gives zeros, so every input is a
//! complete (if short) scenario and libFuzzer's mutations of one choice leave the others.

use crate::all_forms;

/// Inside any text or body, this byte and the one after it stand for a form of a credential
/// (the second byte picks which): the fuzzer can put any credential, in any form, anywhere,
/// without having to discover its bytes.
pub const EXPAND: u8 = 0xFF;

/// `bytes` with every [`EXPAND`] pair replaced by the credential form it picks.
pub fn expand(bytes: &[u8]) -> Vec<u8> {
    let forms = all_forms();
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter();
    while let Some(&b) = iter.next() {
        if b == EXPAND {
            let pick = iter.next().copied().unwrap_or(0);
            out.extend_from_slice(forms[usize::from(pick) % forms.len()].as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// Reads choices from fuzz bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// True when every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 once exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A boolean.
    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// Up to 255 raw bytes: a length byte, then that many bytes (fewer when exhausted).
    pub fn blob(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte()).min(self.data.len());
        let (blob, rest) = self.data.split_at(len);
        self.data = rest;
        blob
    }

    /// A blob with its credential expansions.
    pub fn blob_expanded(&mut self) -> Vec<u8> {
        expand(self.blob())
    }

    /// A blob with its expansions, as text (invalid UTF-8 replaced).
    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(&self.blob_expanded()).into_owned()
    }

    /// Every byte left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}
