//! `multipart/form-data` bodies, with a boundary that provably does not occur in the content.
//!
//! Core has no randomness, so the boundary is derived from a hash of the parts and checked
//! against them; on the (astronomically unlikely) collision the next candidate is tried.

use sha2::{Digest, Sha256};

#[derive(Debug)]
enum Part<'a> {
    Text(&'a str, &'a str),
    File {
        name: &'a str,
        filename: &'a str,
        content_type: &'a str,
        bytes: &'a [u8],
    },
}

/// A multipart form being assembled.
#[derive(Debug, Default)]
pub(crate) struct Multipart<'a> {
    parts: Vec<Part<'a>>,
}

impl<'a> Multipart<'a> {
    pub(crate) fn text(&mut self, name: &'a str, value: &'a str) {
        self.parts.push(Part::Text(name, value));
    }

    pub(crate) fn file(
        &mut self,
        name: &'a str,
        filename: &'a str,
        content_type: &'a str,
        bytes: &'a [u8],
    ) {
        self.parts.push(Part::File {
            name,
            filename,
            content_type,
            bytes,
        });
    }

    fn contents(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(|part| match part {
            Part::Text(_, value) => value.as_bytes(),
            Part::File { bytes, .. } => bytes,
        })
    }

    fn boundary(&self) -> String {
        let mut hasher = Sha256::new();
        for content in self.contents() {
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(content);
        }
        let mut seed = hasher.finalize();
        loop {
            let hex: String = seed.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let boundary = format!("iproov-sansio-{hex}");
            if !self.contents().any(|c| contains(c, boundary.as_bytes())) {
                return boundary;
            }
            seed = Sha256::digest(seed);
        }
    }

    /// The `Content-Type` header value (with the boundary) and the body.
    pub(crate) fn finish(self) -> (String, Vec<u8>) {
        let boundary = self.boundary();
        let size: usize = self.contents().map(|c| c.len() + 160).sum();
        let mut body = Vec::with_capacity(size);
        for part in &self.parts {
            body.extend_from_slice(b"--");
            body.extend_from_slice(boundary.as_bytes());
            body.extend_from_slice(b"\r\n");
            match part {
                Part::Text(name, value) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                            .as_bytes(),
                    );
                    body.extend_from_slice(value.as_bytes());
                }
                Part::File {
                    name,
                    filename,
                    content_type,
                    bytes,
                } => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; \
                             filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(bytes);
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"--\r\n");
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_never_occurs_in_content_and_is_deterministic() {
        let mut form = Multipart::default();
        form.text("a", "x");
        form.file("f", "f.bin", "application/octet-stream", b"\x00\x01");
        let probe = form.boundary();
        let mut hostile = Multipart::default();
        let text = format!("--{probe}\r\n");
        hostile.text("a", &text);
        assert!(!hostile.boundary().is_empty());
        let (ct1, body1) = form.finish();
        let mut again = Multipart::default();
        again.text("a", "x");
        again.file("f", "f.bin", "application/octet-stream", b"\x00\x01");
        let (ct2, body2) = again.finish();
        assert_eq!((ct1, body1), (ct2, body2));
    }
}
