namespace Plateau.Coordinator.Checkpoints;

/// <summary>
/// A plain-weights file to be cut out of a checkpoint: its new safetensors header, and the byte ranges of
/// the checkpoint file that follow it unchanged, in order.
/// </summary>
public sealed record WeightsExportPlan(byte[] Header, IReadOnlyList<(long Offset, long Length)> Ranges, int Tensors)
{
    /// <summary>Size of the exported file: the 8-byte length, the header and the tensor bytes.</summary>
    public long TotalBytes => 8 + Header.Length + Ranges.Sum(r => r.Length);
}
