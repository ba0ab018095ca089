namespace Plateau.Data.Datasets;

/// <summary>What to open: the path, its format (or Auto), the split, and the format-specific options.</summary>
public sealed record DatasetSpec
{
    public required string Path { get; init; }

    public DatasetFormat Format { get; init; } = DatasetFormat.Auto;

    public DatasetSplit Split { get; init; } = DatasetSplit.Train;

    /// <summary>CIFAR: fraction of the training records held out as validation (0.1 = the paper's 45k/5k); 0 = use test_batch for validation.</summary>
    public double HoldOutFraction { get; init; } = 0.1;

    /// <summary>ImageNet flat val/: LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt (default: looked up next to the data).</summary>
    public string? ValidationLabels { get; init; }

    /// <summary>ImageNet devkit ground truth: synset list, line k = wnid of ILSVRC2012_ID k.</summary>
    public string? SynsetList { get; init; }

    /// <summary>Shards: verify every shard's SHA-256 against the manifest when opening.</summary>
    public bool VerifyChecksums { get; init; } = true;
}
