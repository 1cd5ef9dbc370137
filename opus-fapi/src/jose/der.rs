//! The little DER this crate writes: RSA private keys from JWK components
//! (PKCS#1 wrapped in PKCS#8), so that keys given as JWKs can be loaded into
//! aws-lc-rs.

const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

fn length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    length(content.len(), out);
    out.extend_from_slice(content);
}

/// A DER INTEGER from an unsigned big-endian magnitude.
fn unsigned_integer(magnitude: &[u8], out: &mut Vec<u8>) {
    let trimmed: &[u8] = match magnitude.iter().position(|b| *b != 0) {
        Some(i) => &magnitude[i..],
        None => &[0],
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content, out);
}

/// The PKCS#8 `PrivateKeyInfo` of an RSA key given by its CRT components
/// (`n, e, d, p, q, dp, dq, qi`, unsigned big-endian).
pub(crate) fn rsa_private_key_pkcs8(components: [&[u8]; 8]) -> Vec<u8> {
    let mut pkcs1_content = Vec::new();
    unsigned_integer(&[0], &mut pkcs1_content);
    for c in components {
        unsigned_integer(c, &mut pkcs1_content);
    }
    let mut pkcs1 = Vec::new();
    tlv(0x30, &pkcs1_content, &mut pkcs1);

    let mut algorithm = Vec::new();
    tlv(0x06, RSA_ENCRYPTION_OID, &mut algorithm);
    algorithm.extend_from_slice(&[0x05, 0x00]);

    let mut info = Vec::new();
    unsigned_integer(&[0], &mut info);
    tlv(0x30, &algorithm, &mut info);
    tlv(0x04, &pkcs1, &mut info);
    let mut out = Vec::new();
    tlv(0x30, &info, &mut out);
    pkcs1.iter_mut().for_each(|b| *b = 0);
    pkcs1_content.iter_mut().for_each(|b| *b = 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_lengths() {
        let mut out = Vec::new();
        unsigned_integer(&[0x00, 0x80], &mut out);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        let mut out = Vec::new();
        unsigned_integer(&[0x00, 0x00], &mut out);
        assert_eq!(out, [0x02, 0x01, 0x00]);
        let mut out = Vec::new();
        length(300, &mut out);
        assert_eq!(out, [0x82, 0x01, 0x2c]);
    }
}
