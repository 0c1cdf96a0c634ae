//! G.711 (ITU-T), the telephone network's codecs: 8 kHz samples, one byte each,
//! companded by μ-law (North America, Japan) or A-law (everywhere else).

/// μ-law byte of a 16-bit linear sample.
pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s as u32).leading_zeros().saturating_sub(17)).min(7) as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// The linear sample of a μ-law byte.
pub fn ulaw_decode(byte: u8) -> i16 {
    let b = !byte;
    let sign = b & 0x80;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if sign != 0 { -magnitude } else { magnitude }) as i16
}

/// A-law byte of a 16-bit linear sample.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut s = i32::from(sample) >> 3; // 13-bit
    let sign = if s >= 0 {
        0x80
    } else {
        s = -s - 1;
        0
    };
    let s = s.min(0x0FFF);
    let byte = if s < 32 {
        s >> 1
    } else {
        let exponent = 31 - (s as u32).leading_zeros() as i32 - 4; // 1..=7
        (exponent << 4) | ((s >> exponent) & 0x0F)
    };
    ((byte | sign) ^ 0x55) as u8
}

/// The linear sample of an A-law byte.
pub fn alaw_decode(byte: u8) -> i16 {
    let b = i32::from(byte ^ 0x55);
    let exponent = (b >> 4) & 0x07;
    let mantissa = b & 0x0F;
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    (if b & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_laws_round_trip_within_their_quantisation_step() {
        for s in (-32_000i32..32_000).step_by(37) {
            let s = s as i16;
            for (name, back) in [("μ", ulaw_decode(ulaw_encode(s))), ("A", alaw_decode(alaw_encode(s)))] {
                let err = (i32::from(back) - i32::from(s)).abs();
                // Companding keeps about 4 significant bits: the error grows with the level.
                assert!(err <= (i32::from(s).abs() / 16).max(16), "{name}-law {s} → {back}");
            }
        }
        assert_eq!(ulaw_encode(0), 0xFF, "μ-law silence");
        assert_eq!(alaw_encode(0), 0xD5, "A-law silence");
    }

    #[test]
    fn every_byte_decodes_and_encodes_back_to_itself() {
        for b in 0..=255u8 {
            let u = ulaw_encode(ulaw_decode(b));
            // μ-law has two zeros (0x7F and 0xFF); they encode to the positive one.
            assert!(u == b || (b == 0x7F && u == 0xFF), "μ-law {b:#x} → {u:#x}");
            assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#x}");
        }
    }
}
