namespace Plateau.Collective.Buckets;

/// <summary>
/// Packs parameters into gradient buckets the way PyTorch DDP's
/// <c>compute_bucket_assignment_by_size</c> does: parameters in reverse registration order (roughly
/// the order backward produces their gradients), a bucket closes once it reaches its cap, the first
/// bucket has a small cap so communication starts early, later buckets the large one. A pure function:
/// every rank computes the same buckets from the same parameter list.
/// </summary>
public static class BucketAssignment
{
    /// <summary>DDP's default <c>bucket_cap_mb</c> = 25.</summary>
    public const long DefaultBucketCapBytes = 25L * 1024 * 1024;

    /// <summary>DDP's <c>_DEFAULT_FIRST_BUCKET_BYTES</c> = 1 MiB.</summary>
    public const long DefaultFirstBucketCapBytes = 1L * 1024 * 1024;

    /// <summary>Buckets hold fp32 gradients.</summary>
    public const int Float32Bytes = sizeof(float);

    public static IReadOnlyList<Bucket> Assign(
        IReadOnlyList<ParameterSpec> parameters,
        long bucketCapBytes = DefaultBucketCapBytes,
        long firstBucketCapBytes = DefaultFirstBucketCapBytes,
        int bytesPerElement = Float32Bytes)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketCapBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(firstBucketCapBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerElement);

        var buckets = new List<Bucket>();
        var entries = new List<BucketEntry>();
        long elements = 0;
        var cap = firstBucketCapBytes;
        for (var index = parameters.Count - 1; index >= 0; index--)
        {
            var parameter = parameters[index];
            if (!parameter.RequiresGrad)
            {
                continue;
            }
            entries.Add(new BucketEntry(index, elements, parameter.ElementCount));
            elements += parameter.ElementCount;
            if (elements * bytesPerElement >= cap)
            {
                buckets.Add(new Bucket(buckets.Count, [.. entries], elements));
                entries.Clear();
                elements = 0;
                cap = bucketCapBytes;
            }
        }
        if (entries.Count > 0)
        {
            buckets.Add(new Bucket(buckets.Count, [.. entries], elements));
        }
        return buckets;
    }
}
