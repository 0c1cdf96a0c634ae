#!/usr/bin/env python3
"""Generate prompt_1khz.ulaw: 2 s of a 1 kHz sine at half full scale,
8 kHz mono, G.711 mu-law, headerless (the format sipp's rtp_stream plays)."""
import math, os

def ulaw(sample: int) -> int:
    BIAS, CLIP = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, CLIP) + BIAS
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not (sample & mask):
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF

rate, secs, freq, amp = 8000, 2.0, 1000.0, 16384
data = bytes(ulaw(int(round(amp * math.sin(2 * math.pi * freq * n / rate))))
             for n in range(int(rate * secs)))
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prompt_1khz.ulaw")
with open(out, "wb") as f:
    f.write(data)
print(f"wrote {out}: {len(data)} bytes")
