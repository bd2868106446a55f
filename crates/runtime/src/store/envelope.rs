//! Every stored value is `[format version: 1 byte][CRC32 of the payload: 4 bytes LE][payload]`,
//! the payload being postcard. The checksum is verified on every read, so a flipped bit or a
//! torn write is reported instead of being fed to the interpreter.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Seen;
use super::StoreError;
use super::legacy::{SeenV2, TurnV1};
use crate::state::Turn;

/// Bumped on any incompatible change of a stored type, with a reader of the old layout in
/// `legacy` (so a data folder opens as it is after an upgrade). 2: bot messages carry rich
/// parts (`state::Message::parts`). 4: `seen` entries carry the time they were written
/// (`Seen::at`), which the retention sweeper ages them by.
pub(super) const FORMAT_VERSION: u8 = 4;
/// The formats this build reads. 3 was never written: it is one flipped bit away from 1, 2
/// and 7, and the version byte is outside the checksum, so no single flipped bit of a
/// readable version may give another readable one.
const READABLE: [u8; 3] = [1, 2, FORMAT_VERSION];
const HEADER: usize = 5;
/// Bytes reserved for an encoded value up front: a conversation record or a turn of this size
/// is written without growing its buffer (larger ones grow as needed).
const TYPICAL_VALUE: usize = 512;

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    // The payload is written after a header whose checksum is filled in last: one buffer,
    // sized for a typical record so that postcard's byte-at-a-time writes rarely regrow it.
    let mut header = Vec::with_capacity(TYPICAL_VALUE);
    header.extend_from_slice(&[FORMAT_VERSION, 0, 0, 0, 0]);
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

/// A `seen` entry, in whichever format it was written (before format 4 it had no time).
pub(super) fn decode_seen(bytes: &[u8]) -> Result<Seen, String> {
    let (version, payload) = open(bytes)?;
    let undecodable = |e: postcard::Error| format!("undecodable payload: {e}");
    if version < 4 {
        return postcard::from_bytes::<SeenV2>(payload)
            .map(Seen::from)
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
    if !READABLE.contains(&version) {
        return Err(format!(
            "format version {version}, this build reads versions 1, 2 and {FORMAT_VERSION}"
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
        // Nor does any flip of an older readable version's byte give a readable one.
        for old in [1u8, 2] {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[0] = old ^ (1 << bit);
                assert!(!READABLE.contains(&flipped[0]), "{old}, bit {bit}");
            }
        }
        assert!(decode::<u8>(&bytes[..3]).is_err());
    }
}
