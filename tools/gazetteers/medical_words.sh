#!/usr/bin/env bash
# Generates data/gazetteers/medical_words.txt: lower-cased words of Debian's
# hunspell-en-med (OpenMedSpel, GPL-3+), the clinical vocabulary the name rules
# must not take for a name on its own (drug names, eponyms, abbreviations).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIC=/usr/share/hunspell/en_med_glut.dic
[ -f "$DIC" ] || { echo "install hunspell-en-med first (tools/install-deps.sh)" >&2; exit 1; }
VER=$(dpkg-query -W -f='${Version}' hunspell-en-med)
{
  echo "# lower-cased words of Debian hunspell-en-med ${VER} (OpenMedSpel, GPL-3+; see LICENSES.md)"
  tail -n +2 "$DIC" | sed 's#/.*##' | tr 'A-Z' 'a-z' | grep -E "^[a-z][a-z'-]*$" | LC_ALL=C sort -u
} > data/gazetteers/medical_words.txt
wc -l data/gazetteers/medical_words.txt
