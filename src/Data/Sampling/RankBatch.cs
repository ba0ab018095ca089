namespace Plateau.Data.Sampling;

/// <summary>
/// One rank's share of one global batch.
/// </summary>
/// <param name="Epoch">The epoch the batch belongs to.</param>
/// <param name="CursorBefore">Global cursor (samples of this epoch consumed by all ranks) before the batch.</param>
/// <param name="CursorAfter">Global cursor once every rank has finished this global batch; checkpoint this.</param>
/// <param name="GlobalBatchSize">Samples in the whole global batch (smaller than the configured size only for the
/// epoch's last, partial batch). Scale the local loss sum by <c>1 / GlobalBatchSize</c> and all-reduce by SUM to get
/// the exact global mean even when ranks hold different counts.</param>
/// <param name="Indices">Dataset indices this rank processes, in order; may be empty when the global batch has fewer
/// samples than there are ranks.</param>
public sealed record RankBatch(int Epoch, long CursorBefore, long CursorAfter, int GlobalBatchSize, int[] Indices)
{
    public int Count => Indices.Length;
}
