#!/usr/bin/env bash
# Validate every scenario in this directory by running sipp against sipp on
# 127.0.0.1. Usage: ./selftest.sh [BASE_PORT]   (default 15060)
# Uses UDP ports BASE, BASE+2 (SIP) and BASE+1000..BASE+1302 (RTP).
# pcap-playing cases need root (raw socket) and are skipped otherwise.
set -u
cd "$(dirname "$0")"
BASE=${1:-15060}
UAS_P=$BASE; UAC_P=$((BASE + 2))
UAS_MP=$((BASE + 1000)); UAC_MP=$((BASE + 1100)); SINK=$((BASE + 1200)); PROBE=$((BASE + 1300))
LOG=$(mktemp -d /tmp/sipp-selftest.XXXXXX)
COMMON="-i 127.0.0.1 -mi 127.0.0.1 -m 1 -timeout 30s -timeout_error -nostdin"
fails=0

# run NAME EXPECT_UAS_RC EXPECT_UAC_RC "UAS ARGS" "UAC ARGS" [SIDE_CMD]
run() {
  local name=$1 exp_s=$2 exp_c=$3 uas=$4 uac=$5 side=${6:-}
  local side_pid=""
  [ -n "$side" ] && { $side > "$LOG/$name.side" 2>&1 & side_pid=$!; }
  sipp $uas -p $UAS_P -mp $UAS_MP $COMMON > "$LOG/$name.uas" 2>&1 &
  local uas_pid=$!
  sleep 0.5
  sipp $uac 127.0.0.1:$UAS_P -p $UAC_P -mp $UAC_MP $COMMON > "$LOG/$name.uac" 2>&1
  local rc_c=$?
  wait $uas_pid; local rc_s=$?
  [ -n "$side_pid" ] && wait $side_pid
  local verdict=PASS
  [ "$rc_s" = "$exp_s" ] && [ "$rc_c" = "$exp_c" ] || { verdict=FAIL; fails=$((fails + 1)); }
  printf '%-16s %s  uas rc=%s (want %s)  uac rc=%s (want %s)  %s\n' "$name" "$verdict" \
    "$rc_s" "$exp_s" "$rc_c" "$exp_c" "$( [ -n "$side" ] && cat "$LOG/$name.side")"
}

run builtin_uas 0 0 "-sn uas" "-sn uac"
run echo        0 0 "-sf uas_echo.xml -rtp_echo" "-sn uac -d 4000" \
    "python3 peers/rtp_tool.py echo 127.0.0.1 $UAS_MP $PROBE 150"
run busy        0 0 "-sf uas_busy.xml" "-sf peers/uac_expect_busy.xml"
run no_answer   0 0 "-sf uas_no_answer.xml" "-sf peers/uac_cancel.xml"
run auth_ok     0 0 "-sf uas_auth.xml -set authuser alice -set authpass secret" \
    "-sf peers/uac_auth.xml -au alice -ap secret"
run auth_bad    1 0 "-sf uas_auth.xml -set authuser alice -set authpass secret" \
    "-sf peers/uac_auth.xml -au alice -ap wrong"
run far_bye     0 0 "-sf uas_far_bye.xml -d 2000" "-sf peers/uac_wait_bye.xml"
run prompt_ulaw 0 0 "-sf uas_prompt_ulaw.xml" "-sf peers/uac_listen.xml -set sdp_port $SINK" \
    "python3 peers/rtp_tool.py sink $SINK 9"
run uac_stream_ulaw 0 0 "-sf peers/uas_sdp_port.xml -set sdp_port $SINK" "-sf uac_stream_ulaw.xml -s 5551234" \
    "python3 peers/rtp_tool.py sink $SINK 5"
if [ "$(id -u)" = 0 ]; then
  run prompt_pcap 0 0 "-sf uas_prompt.xml" "-sf peers/uac_listen.xml -set sdp_port $SINK" \
      "python3 peers/rtp_tool.py sink $SINK 9"
  run uac_pcap    0 0 "-sf peers/uas_sdp_port.xml -set sdp_port $SINK" "-sf uac_pcap.xml -s 919800000001" \
      "python3 peers/rtp_tool.py sink $SINK 11"
else
  echo "prompt_pcap/uac_pcap: SKIPPED (play_pcap_audio needs root or CAP_NET_RAW)"
fi
echo "logs in $LOG; failures: $fails"
exit $((fails > 0))
