# Sourced by the scripts that run on a lent GPU machine (root, no registry): unpacks the Vulkan
# loader (.gl/*.deb: those machines have none) and .gpu/bundle.tar.xz, both from
# bench/gpu/pack.sh, over this checkout, points Vulkan at NVIDIA's ICD when it is not in the
# standard folders, and puts the bundled Node first on PATH. Expects to run in the repository root.
if compgen -G ".gl/*.deb" >/dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "$(ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -i nvidia)" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
tar -xJf .gpu/bundle.tar.xz -C .
export PATH="$PWD/.gpu/bin:$PATH"
[ -f .gpu/commit ] && export SPINE_BENCH_COMMIT="$(cat .gpu/commit)"
nvidia-smi -L 2>/dev/null || true
