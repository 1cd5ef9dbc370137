# Sourced by .ci/run (and usable by hand): a SoftHSM2 token for the PKCS#11
# tests, in target/softhsm, and the variables the tests read.
softhsm_module=""
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -f "$candidate" ] && softhsm_module="$candidate" && break
done
if [ -z "$softhsm_module" ]; then
  echo "SoftHSM2 not found (apt-get install softhsm2)" >&2
  return 1 2>/dev/null || exit 1
fi
softhsm_dir="$(pwd)/target/softhsm"
mkdir -p "$softhsm_dir/tokens"
cat > "$softhsm_dir/softhsm2.conf" <<CONF
directories.tokendir = $softhsm_dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$softhsm_dir/softhsm2.conf"
export OPUS_PKCS11_MODULE="$softhsm_module"
export OPUS_PKCS11_TOKEN="opus-ci"
export OPUS_PKCS11_PIN="1234"
if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label:.*opus-ci"; then
  softhsm2-util --init-token --free --label opus-ci --pin 1234 --so-pin 5678 >/dev/null
fi
