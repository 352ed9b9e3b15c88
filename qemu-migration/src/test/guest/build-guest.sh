#!/bin/sh
# Builds the capture guest (a multiboot ELF32) into the given file. Needs gcc and binutils.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-memfill.elf}
gcc -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
    -O2 -nostdlib -c "$here/memfill.c" -o "$out.o"
ld -m elf_i386 --no-warn-rwx-segments -T "$here/link.ld" -nostdlib -o "$out" "$out.o"
rm -f "$out.o"
