//! Audio the simulated carrier records: a WAV file (8 kHz, 8-bit PCM, mono, the
//! telephone band) as long as the call talked, each turn of the conversation voiced
//! by a synthetic speaker (a pitched, syllable-shaped tone: the agent higher, the caller
//! lower), quiet line noise in between. Small (8 kB a second) and playable everywhere.

use crate::calls::{Speaker, Turn};

pub const SAMPLE_RATE: u32 = 8_000;

/// The recording of a call that talked `talk_secs`, with `turns` voiced.
pub fn render_wav(turns: &[Turn], talk_secs: i64) -> Vec<u8> {
    let samples = (talk_secs.max(0) as usize) * SAMPLE_RATE as usize;
    let mut pcm = vec![0f32; samples];
    let mut noise = 0x2545_f491_u32;
    for s in pcm.iter_mut() {
        // xorshift: a little line hiss so silence sounds like an open line.
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        *s = ((noise % 1000) as f32 / 1000.0 - 0.5) * 0.01;
    }
    for turn in turns {
        let pitch = match turn.speaker {
            Speaker::Agent => 205.0,
            Speaker::Caller => 125.0,
        };
        let from = ms_to_sample(turn.start_ms).min(samples);
        let to = ms_to_sample(turn.end_ms).min(samples);
        for (i, s) in pcm[from..to].iter_mut().enumerate() {
            let t = i as f32 / SAMPLE_RATE as f32;
            // Syllables about 5 a second, a short gap between words.
            let syllable = (std::f32::consts::PI * 5.0 * t).sin().abs().sqrt();
            let word_gap = if (t % 0.9) > 0.8 { 0.0 } else { 1.0 };
            let f0 = pitch * (1.0 + 0.03 * (std::f32::consts::TAU * 0.7 * t).sin());
            let phase = std::f32::consts::TAU * f0 * t;
            let voice =
                phase.sin() + 0.5 * (2.0 * phase).sin() + 0.3 * (3.0 * phase).sin() + 0.15 * (5.0 * phase).sin();
            *s += 0.3 * voice * syllable * word_gap;
        }
    }
    let mut wav = header(samples as u32);
    wav.extend(pcm.iter().map(|s| ((s.clamp(-1.0, 1.0) * 127.0) + 128.0) as u8));
    wav
}

fn ms_to_sample(ms: i64) -> usize {
    (ms.max(0) as usize) * SAMPLE_RATE as usize / 1000
}

/// The 44-byte RIFF header of 8-bit mono PCM.
fn header(samples: u32) -> Vec<u8> {
    wav_header(1, 8, samples)
}

/// The 44-byte RIFF header of `frames` frames of PCM at 8 kHz.
fn wav_header(channels: u16, bits: u16, frames: u32) -> Vec<u8> {
    let block = u32::from(channels * bits / 8);
    let data = frames * block;
    let mut h = Vec::with_capacity(44 + data as usize);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    h.extend_from_slice(&(SAMPLE_RATE * block).to_le_bytes()); // bytes per second
    h.extend_from_slice(&(block as u16).to_le_bytes()); // block align
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    h
}

/// A stereo 16-bit WAV of `frames` frames: `left` and `right` (each padded with silence).
pub fn stereo_wav(left: &[i16], right: &[i16], frames: usize) -> Vec<u8> {
    let mut wav = wav_header(2, 16, frames as u32);
    for i in 0..frames {
        wav.extend_from_slice(&left.get(i).copied().unwrap_or(0).to_le_bytes());
        wav.extend_from_slice(&right.get(i).copied().unwrap_or(0).to_le_bytes());
    }
    wav
}

/// One channel of a stereo 16-bit WAV (0 left, 1 right); `None` unless it is one.
pub fn stereo_channel(wav: &[u8], channel: usize) -> Option<Vec<i16>> {
    if wav.len() < 44 || &wav[..4] != b"RIFF" || wav[22..24] != [2, 0] || wav[34..36] != [16, 0] {
        return None;
    }
    Some(wav[44..].chunks_exact(4).map(|f| i16::from_le_bytes([f[2 * channel], f[2 * channel + 1]])).collect())
}

/// The samples of a mono 16-bit 8 kHz PCM WAV file (what a prompt is played from), or
/// what is wrong with it.
pub fn mono_pcm(wav: &[u8]) -> Result<Vec<i16>, String> {
    if wav.len() < 12 || &wav[..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
        return Err("not a WAV file (RIFF/WAVE)".into());
    }
    let (mut at, mut format_ok) = (12, false);
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let len = u32::from_le_bytes([wav[at + 4], wav[at + 5], wav[at + 6], wav[at + 7]]) as usize;
        let body = &wav[at + 8..(at + 8).saturating_add(len).min(wav.len())];
        match id {
            b"fmt " if body.len() >= 16 => {
                let word = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                if word(0) != 1 || word(2) != 1 || rate != SAMPLE_RATE || word(14) != 16 {
                    return Err(format!(
                        "the WAV is format {} with {} channel(s) at {rate} Hz and {} bits; a prompt is PCM, mono, 8000 Hz, 16 bits",
                        word(0),
                        word(2),
                        word(14)
                    ));
                }
                format_ok = true;
            }
            b"data" if format_ok => {
                return Ok(body.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect());
            }
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    Err("the WAV has no PCM fmt chunk followed by a data chunk".into())
}

/// A 440 Hz tone (or any `hz`) of `ms` at 8 kHz, at a third of full scale.
pub fn tone(hz: f32, ms: usize) -> Vec<i16> {
    (0..ms * SAMPLE_RATE as usize / 1000)
        .map(|i| ((std::f32::consts::TAU * hz * i as f32 / SAMPLE_RATE as f32).sin() * 10_000.0) as i16)
        .collect()
}

/// The share of the energy of `samples` at `hz` (Goertzel over 50 ms blocks, so a
/// tone whose phase jumps between packets still counts): near 1 for a tone at `hz`,
/// near 0 for silence, noise or another pitch.
pub fn tone_share(samples: &[i16], hz: f32) -> f64 {
    const BLOCK: usize = 400;
    let w = std::f64::consts::TAU * f64::from(hz) / f64::from(SAMPLE_RATE);
    let coeff = 2.0 * w.cos();
    let (mut at_hz, mut total) = (0f64, 0f64);
    for block in samples.chunks_exact(BLOCK) {
        let (mut s1, mut s2, mut energy) = (0f64, 0f64, 0f64);
        for &x in block {
            let x = f64::from(x);
            energy += x * x;
            let s0 = x + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        at_hz += 2.0 * (s1 * s1 + s2 * s2 - coeff * s1 * s2) / BLOCK as f64;
        total += energy;
    }
    if total == 0.0 {
        0.0
    } else {
        (at_hz / total).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mono_prompt_reads_back_and_other_formats_are_refused() {
        let samples = tone(440.0, 100);
        let mut wav = wav_header(1, 16, samples.len() as u32);
        wav.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        assert_eq!(mono_pcm(&wav).unwrap(), samples);
        let stereo = stereo_wav(&samples, &samples, samples.len());
        assert!(mono_pcm(&stereo).unwrap_err().contains("2 channel(s)"));
        assert!(mono_pcm(b"RIFF").is_err());
        assert!(mono_pcm(&wav[..40]).is_err(), "a cut file is refused, not read past its end");
    }
    use crate::calls::conversation;

    #[test]
    fn n3_a_stereo_recording_keeps_its_legs_apart_and_a_tone_is_found_by_its_pitch() {
        let t = tone(440.0, 1_000);
        let wav = stereo_wav(&t, &[], 8_000);
        assert_eq!(wav.len(), 44 + 8_000 * 4);
        let left = stereo_channel(&wav, 0).unwrap();
        assert!(tone_share(&left, 440.0) > 0.9, "the tone is there");
        assert!(tone_share(&left, 1_000.0) < 0.05, "and not another pitch");
        assert_eq!(tone_share(&stereo_channel(&wav, 1).unwrap(), 440.0), 0.0, "the other leg is silent");
        assert_eq!(stereo_channel(&render_wav(&[], 1), 0), None, "a mono WAV has no channels to split");
    }

    #[test]
    fn p7_a_recording_is_a_wav_as_long_as_the_call_with_its_speech_audible() {
        let (_, turns) = conversation("call_x", "Hello!", 30);
        let wav = render_wav(&turns, 30);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(wav.len(), 44 + 30 * 8_000);
        let loud = |from_ms: i64, to_ms: i64| {
            let body = &wav[44 + ms_to_sample(from_ms)..44 + ms_to_sample(to_ms)];
            body.iter().map(|&b| (i32::from(b) - 128).abs()).max().unwrap_or(0)
        };
        let t = &turns[0];
        assert!(loud(t.start_ms, t.end_ms) > 40, "a turn is voiced");
        assert!(loud(0, t.start_ms) < 5, "before the first turn the line is quiet");
    }
}
