namespace Plateau.Collective.Buckets;

/// <summary>
/// A group of gradients all-reduced as one flat buffer (PyTorch DDP reducer's bucket). Bucket 0
/// holds the parameters registered last — the first whose gradients backward produces.
/// </summary>
/// <param name="Index">Launch order: buckets are all-reduced in increasing index on every rank.</param>
/// <param name="Entries">Parameters in the order their gradients are packed.</param>
/// <param name="ElementCount">Total elements (the flat buffer's length).</param>
public sealed record Bucket(int Index, IReadOnlyList<BucketEntry> Entries, long ElementCount)
{
    public long Bytes(int bytesPerElement = sizeof(float)) => ElementCount * bytesPerElement;
}
