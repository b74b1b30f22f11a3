#!/bin/sh
# Prints the package version: from `git describe` (tag v1.2.3, 4 commits on:
# 1.2.3+4.gHASH), else 0.0~gitDATE.HASH of the last commit, else 0.0.
set -eu
cd "$(dirname "$0")/.."
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
	d=${d#v}
	case $d in
	*-*-g*) echo "$d" | sed 's/-\([0-9]*\)-g/+\1.g/' ;;
	*) echo "$d" ;;
	esac
elif h=$(git log -1 --format='%cd.%h' --date=format:%Y%m%d 2>/dev/null); then
	echo "0.0~git$h"
else
	echo 0.0
fi
