//! Every stored value is `[format version: 1 byte][CRC32 of the payload: 4 bytes LE][payload]`,
//! the payload being postcard. The checksum is verified on every read, so a flipped bit or a
//! torn write is reported instead of being fed to the interpreter.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::legacy::TurnV1;
use crate::state::Turn;

/// Bumped on any incompatible change of a stored type, with a reader of the old layout in
/// `legacy` (so a data folder opens as it is after an upgrade). 2: bot messages carry rich
/// parts (`state::Message::parts`).
pub(super) const FORMAT_VERSION: u8 = 2;
/// The oldest format this build still reads.
const OLDEST_READ: u8 = 1;
const HEADER: usize = 5;

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    // The payload is written after a header whose checksum is filled in last: one buffer.
    let header = vec![FORMAT_VERSION, 0, 0, 0, 0];
    let mut bytes =
        postcard::to_extend(value, header).map_err(|e| StoreError::Encode(e.to_string()))?;
    let crc = crc32fast::hash(bytes.get(HEADER..).unwrap_or_default());
    if let Some(slot) = bytes.get_mut(1..HEADER) {
        slot.copy_from_slice(&crc.to_le_bytes());
    }
    Ok(bytes)
}

/// A value of any type whose layout no format changed. Why bytes are not a valid value (the
/// caller adds where they were).
pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (_, payload) = open(bytes)?;
    postcard::from_bytes(payload).map_err(|e| format!("undecodable payload: {e}"))
}

/// A history turn, in whichever format it was written.
pub(super) fn decode_turn(bytes: &[u8]) -> Result<Turn, String> {
    let (version, payload) = open(bytes)?;
    let undecodable = |e: postcard::Error| format!("undecodable payload: {e}");
    if version == 1 {
        return postcard::from_bytes::<TurnV1>(payload)
            .map(Turn::from)
            .map_err(undecodable);
    }
    postcard::from_bytes(payload).map_err(undecodable)
}

/// The version and the payload of a checked envelope.
fn open(bytes: &[u8]) -> Result<(u8, &[u8]), String> {
    let (Some(&version), Some(crc), Some(payload)) =
        (bytes.first(), bytes.get(1..HEADER), bytes.get(HEADER..))
    else {
        return Err(format!("{} bytes, too short for an envelope", bytes.len()));
    };
    if !(OLDEST_READ..=FORMAT_VERSION).contains(&version) {
        return Err(format!(
            "format version {version}, this build reads {OLDEST_READ} to {FORMAT_VERSION}"
        ));
    }
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let actual = crc32fast::hash(payload);
    if stored != actual {
        return Err(format!(
            "checksum mismatch (stored {stored:08x}, computed {actual:08x})"
        ));
    }
    Ok((version, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_single_bit_flip_is_caught() {
        let value = (String::from("conversation"), 42u64, vec![1u8, 2, 3]);
        let bytes = encode(&value).unwrap();
        assert_eq!(decode::<(String, u64, Vec<u8>)>(&bytes).unwrap(), value);
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                decode::<(String, u64, Vec<u8>)>(&flipped).is_err(),
                "bit {bit}"
            );
        }
        assert!(decode::<u8>(&bytes[..3]).is_err());
    }
}
