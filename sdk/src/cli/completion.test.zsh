# Test support for completion.test.ts. zsh -f completion.test.zsh <script> <line>: what zsh's completion system offers
# for <line><Tab>, one a line. A real interactive zsh in a pseudo-terminal (zpty) with compinit and the script
# loaded; Tab runs the completion widget. compadd is wrapped only to print the matches it was given, then adds them.
zmodload zsh/zpty || exit 3
local dir=$(mktemp -d)
cat > $dir/.zshrc <<RC
PROMPT= RPROMPT=
autoload -Uz compinit && compinit -u -D
source ${(q)1}
zstyle ':completion:*' insert-tab false
_mark () { print -r -- \$'\\n<<MARK>>' }
compadd () {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "\$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  (( \$#__hits )) && print -rl -- "<<HIT>>"\${^__hits}
  builtin compadd "\$@"
}
bindkey '^I' complete-word
print -r -- '<<READY>>'
RC
zpty z "ZDOTDIR=${(q)dir} zsh -i"
local out
while zpty -r z out; do [[ $out == '<<READY>>'* ]] && break; done
zpty -w z "compprefuncs=( _mark ); comppostfuncs=( _mark exit )"
zpty -w -n z "$2"$'\t'
local marks=0
while zpty -r z out; do
  [[ $out == *'<<MARK>>'* ]] && { (( ++marks >= 2 )) && break; continue; }
  (( marks )) && [[ $out == *'<<HIT>>'* ]] && print -r -- ${${out#*<<HIT>>}%%$'\r'*}
done
zpty -d z
rm -rf $dir
