#!/usr/bin/env bash
# Generates data/gazetteers/medical_words.txt: lower-cased words of Debian's
# hunspell-en-med (OpenMedSpel, GPL-3+), the clinical vocabulary the name rules
# must not take for a name on its own (drug names, eponyms, abbreviations).
# A second column "proper" marks words the source writes only capitalised
# (brands, eponyms, places: "Augmentin", "Baltimore"); the engine treats them
# as clinical words that may also be a place, and its misspelling index does
# not read a place minus its last letter as a typo of them.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIC=/usr/share/hunspell/en_med_glut.dic
[ -f "$DIC" ] || { echo "install hunspell-en-med first (tools/install-deps.sh)" >&2; exit 1; }
VER=$(dpkg-query -W -f='${Version}' hunspell-en-med)
{
  echo "# lower-cased words of Debian hunspell-en-med ${VER} (OpenMedSpel, GPL-3+; see LICENSES.md); column 2: proper = only capitalised in the source"
  tail -n +2 "$DIC" | sed 's#/.*##' | grep -E "^[A-Za-z][A-Za-z'-]*$" |
    LC_ALL=C awk '{ l = tolower($0); if ($0 == l) lower[l] = 1; else cap[l] = 1 }
      END { for (w in lower) print w; for (w in cap) if (!(w in lower)) print w "\tproper" }' |
    LC_ALL=C sort -u
} > data/gazetteers/medical_words.txt
wc -l data/gazetteers/medical_words.txt
