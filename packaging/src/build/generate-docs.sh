#!/bin/bash
# Generates the bash completions and man pages the packages install, from the commands themselves
# (picocli's models of dwcp and dwcpd), so that they always match the code:
#   OUT/completion/dwcp, OUT/completion/dwcpd            picocli.AutoComplete
#   OUT/man/man1/dwcp*.1.gz, OUT/man/man8/dwcpd*.8.gz   picocli-codegen's ManPageGenerator (AsciiDoc),
#                                                       rendered by asciidoctor's manpage backend
# dwcpd is a daemon: section 8, with its configuration keys (dwcpd --help-config) in the page.
# Usage: generate-docs.sh CLASSPATH OUT   (the packaging build runs it; no network needed)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 CLASSPATH OUT" >&2; exit 2; }
classpath=$1
out=$2
command -v asciidoctor >/dev/null \
  || { echo "generate-docs: asciidoctor is not installed (Debian: apt-get install asciidoctor; tests/setup/install-deps.sh does)" >&2; exit 1; }
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
dwcp=io.dwcp.cli.DwcpCommand
dwcpd=io.dwcp.daemon.DwcpdCommand

rm -rf "$out/completion" "$out/man" "$out/adoc"
mkdir -p "$out/completion" "$out/man/man1" "$out/man/man8" "$out/adoc"

"$java" -cp "$classpath" picocli.AutoComplete --force --name dwcp --completionScript "$out/completion/dwcp" "$dwcp"
"$java" -cp "$classpath" picocli.AutoComplete --force --name dwcpd --completionScript "$out/completion/dwcpd" "$dwcpd"

"$java" -cp "$classpath" picocli.codegen.docgen.manpage.ManPageGenerator --outdir "$out/adoc" "$dwcp" "$dwcpd"

# dwcpd's page: the configuration keys, as dwcpd itself lists them
{
  printf '== Configuration\n\n'
  printf 'dwcpd reads */etc/dwcp/dwcpd.properties* (or the file given with *--config*), then the *--set* overrides. '
  printf 'A bad key or value is reported in one line naming it, with exit status 2. The keys, their defaults and meaning:\n\n'
  printf '....\n'
  "$java" -cp "$classpath" "$dwcpd" --help-config
  printf '....\n\n'
} > "$out/adoc/dwcpd-configuration.adoc"
sed -i 's|^// end::picocli-generated-full-manpage\[\]$|include::dwcpd-configuration.adoc[]\n\n&|' "$out/adoc/dwcpd.adoc"

for page in "$out"/adoc/*.adoc; do
  name=$(basename "$page" .adoc)
  case $name in
    dwcp-help|dwcpd-configuration) continue ;;   # picocli's own help command; a part of dwcpd's page
    dwcpd*) section=8 ;;
    *) section=1 ;;
  esac
  # ManPageGenerator titles every page "(1)"
  sed -i "s|^= $name(1)\$|= $name($section)|" "$page"
  asciidoctor --backend manpage --safe-mode unsafe --attribute reproducible --out-file "$out/man/man$section/$name.$section" "$page"
  gzip -9 -n -f "$out/man/man$section/$name.$section"
done
ls "$out/completion/dwcp" "$out/completion/dwcpd" "$out/man/man1/dwcp.1.gz" "$out/man/man8/dwcpd.8.gz" >/dev/null
