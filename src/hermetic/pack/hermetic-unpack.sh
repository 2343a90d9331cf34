#!/bin/sh
# hermetic-unpack: relocate an environment unpacked from a `hermetic pack` archive.
#
#   tar -xf ENV.tar.zst -C DEST && DEST/bin/hermetic-unpack
#
# Rewrites the prefix placeholders (text and binary), the entry points' shebangs and the
# activation scripts to DEST, using only a POSIX shell and POSIX tools (awk, dd, sed): no
# conda, no hermetic, no python, no network. Every offset comes from the manifest written at
# pack time (.hermetic-pack/relocate), so nothing is searched. Binary placeholders are
# replaced in place and padded with NUL bytes; DEST must not be longer than them, which is
# checked for every file before anything is changed. Runs once; to move the environment
# again, extract the archive again.
set -eu
LC_ALL=C
export LC_ALL
PATH=${PATH:-/usr/bin:/bin}
export PATH

here=$(dirname "$0")
DEST=$(cd "$here/.." && pwd -P)
MANIFEST="$DEST/.hermetic-pack/relocate"
DONE="$DEST/.hermetic-pack/relocated"

die() { printf 'hermetic-unpack: %s\n' "$*" >&2; exit 1; }

[ -f "$MANIFEST" ] || die "no relocation manifest at $MANIFEST: was the archive fully extracted?"
case $DEST in
*'"'* | *'$'* | *'`'* | *'\'* | *"'"*) die "cannot relocate into '$DEST': the path has a quote, \$, \` or backslash" ;;
esac
case $DEST in
*'
'*) die "cannot relocate into a path with a line break" ;;
esac
if [ -f "$DONE" ]; then
    IFS= read -r was <"$DONE" || was=
    [ "$was" = "$DEST" ] && { echo "hermetic-unpack: already relocated to $DEST"; exit 0; }
    die "this environment was already relocated to $was; extract the archive again to move it"
fi
{ IFS= read -r header <"$MANIFEST" && [ "$header" = "hermetic-relocate 1" ]; } ||
    die "unknown relocation manifest format in $MANIFEST"
destlen=${#DEST}

# copy_range FILE START LENGTH: bytes [START, START+LENGTH) of FILE to stdout
copy_range() {
    _s=$2
    _n=$3
    [ "$_n" -gt 0 ] || return 0
    _h=$(((4096 - _s % 4096) % 4096))
    [ "$_h" -gt "$_n" ] && _h=$_n
    [ "$_h" -gt 0 ] && dd if="$1" bs=1 skip="$_s" count="$_h" 2>/dev/null
    _s=$((_s + _h))
    _n=$((_n - _h))
    _b=$((_n / 4096))
    [ "$_b" -gt 0 ] && dd if="$1" bs=4096 skip=$((_s / 4096)) count="$_b" 2>/dev/null
    _s=$((_s + _b * 4096))
    _n=$((_n - _b * 4096))
    [ "$_n" -gt 0 ] && dd if="$1" bs=1 skip="$_s" count="$_n" 2>/dev/null
    return 0
}

# pass 1: every binary placeholder must fit DEST, checked before any file changes
while IFS= read -r line; do
    set -- $line
    case $1 in
    T) IFS= read -r path; IFS= read -r offsets ;;
    B)
        IFS= read -r path
        if [ "$destlen" -gt "$2" ]; then
            die "cannot relocate $path: it holds a binary prefix placeholder of $2 bytes and '$DEST' is $destlen bytes long; extract into a shorter path (at most $2 bytes)"
        fi
        i=0
        while [ "$i" -lt "$3" ]; do IFS= read -r occ; i=$((i + 1)); done
        ;;
    esac
done <"$MANIFEST"

tmp="$DEST/.hermetic-pack/splice.$$"
trap 'rm -f "$tmp"' EXIT
relocated=0

# pass 2: rewrite
while IFS= read -r line; do
    set -- $line
    case $1 in
    T)
        phlen=$2 size=$3 ep=$4 mode=$6 ph=$7
        IFS= read -r path
        IFS= read -r offsets
        f="$DEST/$path"
        [ -f "$f" ] || die "$path is missing: was the archive fully extracted?"
        if [ "$mode" = d ]; then
            pos=0
            {
                for off in $offsets; do
                    copy_range "$f" "$pos" $((off - pos))
                    printf '%s' "$DEST"
                    pos=$((off + phlen))
                done
                copy_range "$f" "$pos" $((size - pos))
            } >"$tmp"
        else
            # literal replacement (index/substr, no regex), one process per file
            HPH=$ph HDEST=$DEST awk -v nl="$mode" '
                BEGIN { ph = ENVIRON["HPH"]; d = ENVIRON["HDEST"]; n = length(ph) }
                NR > 1 { print prev }
                {
                    s = $0; o = ""
                    while ((i = index(s, ph)) > 0) { o = o substr(s, 1, i - 1) d; s = substr(s, i + n) }
                    prev = o s
                }
                END { if (NR > 0) { printf "%s", prev; if (nl == "a") printf "\n" } }
            ' "$f" >"$tmp"
        fi
        if [ "$ep" = 1 ]; then
            IFS= read -r first <"$tmp" || first=
            if [ "${#first}" -gt 127 ]; then
                # kernels cut long shebangs: run the interpreter through sh instead
                interp=${first#??}
                {
                    printf '#!/bin/sh\n'
                    printf "'''exec' \"%s\" \"\$0\" \"\$@\"\n" "$interp"
                    printf "' '''\n"
                    sed 1d "$tmp"
                } >"$tmp.ep"
                mv "$tmp.ep" "$tmp"
            fi
        fi
        cat "$tmp" >"$f"
        relocated=$((relocated + 1))
        ;;
    B)
        n=$3
        IFS= read -r path
        f="$DEST/$path"
        [ -f "$f" ] || die "$path is missing: was the archive fully extracted?"
        i=0
        while [ "$i" -lt "$n" ]; do
            IFS= read -r occ
            set -- $occ
            off=$1 strlen=$2 suflen=$3 suffix=${4#x}
            pad=$((strlen - destlen - suflen))
            {
                printf '%s' "$DEST"
                printf "$suffix"
                [ "$pad" -gt 0 ] && dd if=/dev/zero bs=1 count="$pad" 2>/dev/null
                :
            } | dd of="$f" bs=1 seek="$off" count="$strlen" conv=notrunc 2>/dev/null
            i=$((i + 1))
        done
        if [ "$(uname -s)" = Darwin ] && command -v codesign >/dev/null 2>&1; then
            codesign -f -s - "$f" >/dev/null 2>&1 || true # patched Mach-O needs a new signature
        fi
        relocated=$((relocated + 1))
        ;;
    esac
done <"$MANIFEST"

printf '%s\n' "$DEST" >"$DONE"
echo "hermetic-unpack: relocated $relocated file(s) to $DEST"
