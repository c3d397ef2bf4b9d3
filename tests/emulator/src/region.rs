//! The six iProov platforms. The emulator serves each under its own path
//! prefix (`/{region}/api/v2`) instead of its own host, so one listener can
//! stand in for all of them and region mismatches can still be exercised.

use serde::{Deserialize, Serialize};

/// One iProov platform.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// `eu.rp.secure.iproov.me`
    Eu,
    /// `us.rp.secure.iproov.me`
    Us,
    /// `sg.rp.secure.iproov.me`
    Sg,
    /// `au.rp.secure.iproov.me`
    Au,
    /// `jkt.rp.secure.iproov.me`
    Jkt,
    /// `latam.rp.secure.iproov.me`
    Latam,
}

impl Region {
    /// Every region, in documentation order.
    pub const ALL: [Self; 6] = [
        Self::Eu,
        Self::Us,
        Self::Sg,
        Self::Au,
        Self::Jkt,
        Self::Latam,
    ];

    /// The path segment (and real host label) of the region.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eu => "eu",
            Self::Us => "us",
            Self::Sg => "sg",
            Self::Au => "au",
            Self::Jkt => "jkt",
            Self::Latam => "latam",
        }
    }

    /// The path prefix the emulator serves this region under.
    pub fn prefix(self) -> String {
        format!("/{}/api/v2", self.as_str())
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
