#!/usr/bin/env bash
# The container image (issue 28), built without a container engine: an OCI image made with umoci
# from the release tarball (Scripts/package.sh). No base image and no shell: the static binary,
# the five shared libraries it needs (copied from this machine's Debian), CA certificates, an
# /etc/passwd naming the non-root user it runs as (65532, "trapline"), the default pipeline
# (deploy/image/trapline.yaml as /etc/trapline/trapline.yaml) and an empty /tmp.
#
#   Scripts/build-image.sh TARBALL [OUTPUT_DIR]
#
# Writes OUTPUT_DIR/oci (an OCI image layout, tag = the version) and OUTPUT_DIR/trapline.oci.tar
# (the same as an oci-archive, for `skopeo copy oci-archive:... docker://REGISTRY/trapline:TAG`
# or `podman load`), and prints the layout's path and tag.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=${1:?usage: Scripts/build-image.sh TARBALL [OUTPUT_DIR]}
output=${2:-.build-image}
for tool in umoci skopeo; do
    command -v "$tool" >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq umoci skopeo >/dev/null; }
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
unpacked=$(ls -d "$work"/trapline-*)
binary="$unpacked/bin/trapline"
version=$("$binary" --version | awk '{print $2}')
commit=$("$binary" --version | sed -n 's/.*(commit \([^)]*\)).*/\1/p')
layout="$output/oci"
rm -rf "$layout" "$output/trapline.oci.tar"
mkdir -p "$output"
umoci init --layout "$layout"
umoci new --image "$layout:$version"
bundle="$work/bundle"
umoci unpack --image "$layout:$version" "$bundle" >/dev/null
rootfs="$bundle/rootfs"
install -D -m 0755 "$binary" "$rootfs/usr/local/bin/trapline"
# The libraries the binary links (glibc, libstdc++, libgcc_s, zlib, libzstd) and the loader.
for library in $(ldd "$binary" | grep -o '/[^ ]*\.so[^ ]*'); do
    install -D -m 0755 "$(readlink -f "$library")" "$rootfs$library"
done
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
install -D -m 0644 deploy/image/trapline.yaml "$rootfs/etc/trapline/trapline.yaml"
cp -R "$unpacked/Pipelines" "$rootfs/etc/trapline/Pipelines"
cp -R "$unpacked/LICENSES" "$rootfs/usr/share/doc/trapline-licenses" 2>/dev/null \
    || { mkdir -p "$rootfs/usr/share/doc"; cp -R "$unpacked/LICENSES" "$rootfs/usr/share/doc/trapline-licenses"; }
printf 'root:x:0:0:root:/root:/sbin/nologin\ntrapline:x:65532:65532:trapline:/nonexistent:/sbin/nologin\n' \
    > "$rootfs/etc/passwd"
printf 'root:x:0:\ntrapline:x:65532:\n' > "$rootfs/etc/group"
install -d -m 1777 "$rootfs/tmp"
umoci repack --image "$layout:$version" "$bundle"
umoci config --image "$layout:$version" \
    --config.user 65532:65532 \
    --config.entrypoint /usr/local/bin/trapline \
    --config.cmd run --config.cmd --config --config.cmd /etc/trapline/trapline.yaml \
    --config.workingdir / \
    --config.exposedports 4317/tcp --config.exposedports 4318/tcp \
    --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --config.stopsignal SIGTERM \
    --config.label org.opencontainers.image.title=trapline \
    --config.label "org.opencontainers.image.version=$version" \
    --config.label "org.opencontainers.image.revision=$commit" \
    --config.label "org.opencontainers.image.description=OTLP processor that catches known failure patterns (traps); ports 4317 (OTLP/gRPC) and 4318 (OTLP/HTTP, /metrics, /healthz, /readyz)"
umoci gc --layout "$layout"
skopeo copy --quiet "oci:$layout:$version" "oci-archive:$output/trapline.oci.tar:$version"
echo "$layout:$version"
