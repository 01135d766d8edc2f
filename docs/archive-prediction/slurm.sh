#!/bin/bash
# Predicts an archive with a Slurm job array: each array task predicts its shard of the films into
# its own CSV (spine-cli predict --shard auto reads the task id and count from Slurm), and a job
# that depends on the whole array merges the shards and checks that every film is there once.
#
#   sbatch docs/archive-prediction/slurm.sh /archive/films runs/densenet /scratch/predictions
#
# Resubmitting after a failure (a node lost, the time limit hit) continues every shard where it
# stopped; to rerun one task only: sbatch --array=7 docs/archive-prediction/slurm.sh ...
# The array must be contiguous (0-15, not 0-15:2): the task ids are the shards.
#SBATCH --job-name=spine-predict
#SBATCH --array=0-15
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=spine-predict-%A_%a.log
# Add --gres=gpu:1 (and a GPU partition) where nodes have GPUs; spine-cli uses one through WebGPU.
set -euo pipefail

ARCHIVE=${1:?usage: sbatch slurm.sh ARCHIVE_DIR RUN_DIR OUT_DIR}
RUN=${2:?usage: sbatch slurm.sh ARCHIVE_DIR RUN_DIR OUT_DIR}
OUT=${3:?usage: sbatch slurm.sh ARCHIVE_DIR RUN_DIR OUT_DIR}
SPINE_CLI=${SPINE_CLI:-spine-cli}
mkdir -p "$OUT"

# One shard per array task. --only-missing: predict only films whose DICOM header records no M/F sex.
"$SPINE_CLI" predict --run "$RUN" --input "$ARCHIVE" --out "$OUT/shard-$SLURM_ARRAY_TASK_ID.csv" \
  --shard auto --workers "$((SLURM_CPUS_PER_TASK - 1))" --only-missing

# The task with the highest id submits the merge, which runs once the whole array has succeeded.
if [ "$SLURM_ARRAY_TASK_ID" = "$SLURM_ARRAY_TASK_MAX" ]; then
  sbatch --dependency="afterok:$SLURM_ARRAY_JOB_ID" --job-name=spine-merge --time=00:30:00 \
    --output="$OUT/merge.log" \
    --wrap="\"$SPINE_CLI\" predict merge \"$OUT\"/shard-*.csv --input \"$ARCHIVE\" --out \"$OUT/all.csv\" --only-missing"
fi
