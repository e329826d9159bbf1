//! Request body decompression with a size limit, so a small gzip bomb cannot exhaust memory.

use spindle_core::{Error, ErrorKind};
use std::io::Read;

/// Gunzips `body`, failing with `PayloadTooLarge` past `limit` decompressed bytes.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    decoder
        .read_to_end(&mut out)
        .map_err(|error| Error::invalid("body", format!("invalid gzip data: {error}")))?;
    if out.len() > limit {
        return Err(Error::new(
            ErrorKind::PayloadTooLarge,
            format!("body: larger than {limit} bytes once decompressed"),
        ));
    }
    Ok(out)
}
