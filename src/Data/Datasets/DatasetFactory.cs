namespace Plateau.Data.Datasets;

/// <summary>Opens any supported dataset from a <see cref="DatasetSpec"/>, detecting the format when asked.</summary>
public static class DatasetFactory
{
    public static IImageDataset Open(DatasetSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec.Path))
        {
            throw new ArgumentException("DatasetSpec.Path is empty", nameof(spec));
        }
        var format = spec.Format == DatasetFormat.Auto ? Detect(spec.Path) : spec.Format;
        return format switch
        {
            DatasetFormat.Cifar10 => CifarBinaryDataset.Open(spec.Path, spec.Split, spec.HoldOutFraction),
            DatasetFormat.ImageNet => ImageNetDataset.Open(spec.Path, spec.Split, spec.ValidationLabels, spec.SynsetList),
            DatasetFormat.ImageFolder => ImageFolderDataset.Open(spec.Path),
            DatasetFormat.Shards => Shards.ShardDataset.Open(spec.Path, spec.VerifyChecksums),
            _ => throw new ArgumentException($"unsupported dataset format {spec.Format}", nameof(spec)),
        };
    }

    /// <summary>
    /// Shards when a manifest.json is there (or the path is one); CIFAR-10 when data_batch_1.bin / test_batch.bin are;
    /// ImageNet when train/ or val/ is; otherwise an ImageFolder of class folders.
    /// </summary>
    public static DatasetFormat Detect(string path)
    {
        if (File.Exists(path))
        {
            return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? DatasetFormat.Shards
                : throw new DatasetFormatException($"{path}: a file; expected a dataset directory or a shard manifest (.json)");
        }
        if (!Directory.Exists(path))
        {
            throw new DatasetFormatException($"{path}: no such file or directory");
        }
        if (File.Exists(Path.Combine(path, Shards.ShardManifest.FileName)))
        {
            return DatasetFormat.Shards;
        }
        if (CifarBinaryDataset.ResolveDirectory(path) is not null)
        {
            return DatasetFormat.Cifar10;
        }
        if (ImageNetDataset.ResolveRoot(path) is not null)
        {
            return DatasetFormat.ImageNet;
        }
        if (ImageFolderDataset.ClassFolders(path).Length > 0)
        {
            return DatasetFormat.ImageFolder;
        }
        throw new DatasetFormatException(
            $"{path}: unrecognised dataset layout (expected CIFAR-10 .bin files, ImageNet train/ and val/, class folders, or a shard manifest.json)");
    }
}
