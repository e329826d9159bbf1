//! Request body decompression with a size limit, so a small gzip bomb cannot exhaust memory.

use spindle_core::{Error, ErrorKind};
use std::io::Read;

/// Gunzips `body`, failing with `PayloadTooLarge` past `limit` decompressed bytes.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    gunzip_charged(body, limit, &mut |_| Ok(()))
}

/// Like [`gunzip`], but calls `charge` with the size of every allocation of the output before
/// making it (the output grows by doubling), so a caller can account for the memory or refuse
/// it; an error from `charge` stops the decompression and is returned as is.
pub fn gunzip_charged(
    body: &[u8],
    limit: usize,
    charge: &mut dyn FnMut(usize) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    let too_large = || {
        Error::new(
            ErrorKind::PayloadTooLarge,
            format!("body: larger than {limit} bytes once decompressed"),
        )
    };
    let mut decoder = flate2::read::MultiGzDecoder::new(body);
    let mut out: Vec<u8> = Vec::new();
    let mut filled = 0;
    // One byte past the limit tells a body of exactly `limit` bytes from a larger one.
    let ceiling = limit.saturating_add(1);
    loop {
        if filled == out.len() {
            let grow = out
                .len()
                .max(body.len().saturating_mul(2))
                .max(4096)
                .min(ceiling - out.len());
            if grow == 0 {
                return Err(too_large());
            }
            charge(grow)?;
            out.reserve_exact(grow);
            out.resize(out.len() + grow, 0);
        }
        let read = decoder
            .read(&mut out[filled..])
            .map_err(|error| Error::invalid("body", format!("invalid gzip data: {error}")))?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    if filled > limit {
        return Err(too_large());
    }
    out.truncate(filled);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("write");
        encoder.finish().expect("finish")
    }

    #[test]
    fn charges_every_allocation_and_stops_when_refused() {
        let data = vec![b'a'; 100_000];
        let compressed = gzip(&data);
        let mut charged = 0;
        let out = gunzip_charged(&compressed, 1 << 20, &mut |bytes| {
            charged += bytes;
            Ok(())
        })
        .expect("gunzip");
        assert_eq!(out, data);
        assert!(charged >= data.len(), "charged {charged}");
        assert!(charged <= 2 * data.len() + 4096, "charged {charged}");

        let refused = gunzip_charged(&compressed, 1 << 20, &mut |bytes| {
            if bytes > 10_000 {
                Err(Error::new(ErrorKind::RateLimited, "no room"))
            } else {
                Ok(())
            }
        })
        .expect_err("refused");
        assert_eq!(refused.kind, ErrorKind::RateLimited);
    }

    #[test]
    fn limit_is_exact() {
        let data = vec![b'a'; 5000];
        let compressed = gzip(&data);
        assert_eq!(gunzip(&compressed, 5000).expect("fits"), data);
        let error = gunzip(&compressed, 4999).expect_err("one byte over");
        assert_eq!(error.kind, ErrorKind::PayloadTooLarge);
        assert_eq!(gunzip(&gzip(b""), 10).expect("empty"), b"");
    }
}
