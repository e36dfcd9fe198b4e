#!/usr/bin/env bash
# --set section.key=value: it reaches the section in force for the space
# that runs, named or not, and an override that applies to nothing is an
# error with a did-you-mean (exit 2); a bad value is a diagnostic (exit 1).
. "$(dirname "$0")/common.bash"
export NO_COLOR=1
F=$SRC/examples/fashion_mlp.nas
TWO=$SRC/tests/fixtures/cli/two_spaces.nas
MLP='{"space": "MLPS", "decisions": {"width": 8}}'
CNN='{"space": "CNNS", "decisions": {"filters": 2}}'

# epochs of a train --json run
epochs() { python3 -c "import json; print(json.load(open('$T/out'))['epochs'])"; }
train_epochs() {
    local want=$1; shift
    expect_exit 0 "$NASC" train "$@" --json --quiet
    [ "$(epochs)" = "$want" ] && ok || bad "wanted $want epochs, got $(epochs): $*"
}

# ----- named sections: train MLPS { epochs = 1 } and train CNNS { epochs = 2 } -----
train_epochs 1 "$TWO" --arch "$MLP"
train_epochs 2 "$TWO" --arch "$CNN"
train_epochs 3 "$TWO" --arch "$MLP" --set train.epochs=3
train_epochs 3 "$TWO" --arch "$CNN" --set train.epochs=3
# SECTION.SPACE.KEY: one space's section only
train_epochs 1 "$TWO" --arch "$MLP" --set train.CNNS.epochs=3
train_epochs 3 "$TWO" --arch "$CNN" --set train.CNNS.epochs=3
# the later of two --set of one key wins
train_epochs 2 "$TWO" --arch "$MLP" --set train.epochs=3 --set train.epochs=2
# a helper key (lr, used by optimizer = sgd(lr = lr)) exists in MLPS only
train_epochs 1 "$TWO" --arch "$MLP" --set train.lr=0.2
expect_exit 2 "$NASC" check "$TWO" --set train.CNNS.lr=0.2
expect_text "$T/err" "nasc: --set train.CNNS.lr=0.2: the train section has no key 'lr'"
# an unnamed section, and a file with no train section (one is made)
train_epochs 2 "$SRC/tests/fixtures/cli/tiny.nas" --arch '{"decisions": {"depth": 1, "act": "relu", "width[1]": 8}}' --set train.epochs=2
printf 'space S(x: Tensor[1, 8, 8]) -> Tensor[4] {\n    return dense(flatten(x), 4)\n}\n' > "$T/nosec.nas"
expect_exit 0 "$NASC" check "$T/nosec.nas" --set train.epochs=2 --set search.trials=3

# ----- overrides that apply to nothing: exit 2 -----
expect_exit 2 "$NASC" check "$F" --set train.epocs=2
expect_text "$T/err" "nasc: --set train.epocs=2: the train section has no key 'epocs'; did you mean 'epochs'?"
expect_exit 2 "$NASC" check "$F" --set search.trails=2
expect_text "$T/err" "nasc: --set search.trails=2: the search section has no key 'trails'; did you mean 'trials'?"
expect_exit 2 "$NASC" check "$F" --set train.zzz=2
expect_text "$T/err" "nasc: --set train.zzz=2: the train section has no key 'zzz'"
# the key is checked before the value is parsed
expect_exit 2 "$NASC" check "$F" --set 'train.zzz=(('
expect_text "$T/err" "nasc: --set train.zzz=((: the train section has no key 'zzz'"
expect_exit 2 "$NASC" check "$F" --set trian.epochs=2
expect_text "$T/err" "nasc: --set trian.epochs=2: there is no section 'trian'; did you mean 'train'?"
expect_exit 2 "$NASC" check "$F" --set model.epochs=2
expect_text "$T/err" "nasc: --set model.epochs=2: there is no section 'model' (the sections are train and search)"
expect_exit 2 "$NASC" check "$TWO" --set train.MLPX.epochs=2
expect_text "$T/err" "nasc: --set train.MLPX.epochs=2: there is no space 'MLPX'; did you mean 'MLPS'?"
expect_exit 2 "$NASC" check "$TWO" --set train.Other.epochs=2
expect_text "$T/err" "nasc: --set train.Other.epochs=2: there is no space 'Other' in this file"
expect_exit 2 "$NASC" check "$F" --set epochs=2
expect_text "$T/err" "nasc: --set expects section.key=value (train.epochs=3, search.trials=20), got 'epochs=2'"
expect_exit 2 "$NASC" check "$F" --set train.epochs
expect_text "$T/err" "nasc: --set expects section.key=value (train.epochs=3, search.trials=20), got 'train.epochs'"
printf 'block B(x: Tensor[4]) -> Tensor[4] {\n    return relu(x)\n}\n' > "$T/lib.nas"
expect_exit 2 "$NASC" check "$T/lib.nas" --set train.epochs=2
expect_text "$T/err" "nasc: --set train.epochs=2: $T/lib.nas has no space, so no section to override"

# ----- bad values: diagnostics in the --set text itself, exit 1 -----
expect_exit 1 "$NASC" check "$F" --set 'train.batch="x"'
expect_text "$T/err" "--set train.batch=\"x\":1:13: error: batch must be a positive int
  train{batch=\"x\"
              ^~~"
expect_exit 1 "$NASC" check "$F" --set 'train.epochs=(3'
expect_line "$T/err" "--set train.epochs=(3:2:1: error: expected ')' before '}' to close the '(' at line 1, column 14"
expect_exit 1 "$NASC" check "$TWO" --set 'train.CNNS.batch=0'
expect_text "$T/err" "--set train.CNNS.batch=0:1:18: error: batch must be a positive int
  train CNNS{batch=0
                   ^"
finish
