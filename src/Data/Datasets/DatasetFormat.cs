namespace Plateau.Data.Datasets;

public enum DatasetFormat
{
    /// <summary>Detect from the directory contents (see <see cref="DatasetFactory.Detect"/>).</summary>
    Auto,

    /// <summary>CIFAR-10 binary version: data_batch_1..5.bin, test_batch.bin.</summary>
    Cifar10,

    /// <summary>ILSVRC2012 layout: train/&lt;wnid&gt;/*.JPEG and val/ (class folders or flat plus ground truth).</summary>
    ImageNet,

    /// <summary>A single root of class folders: &lt;class&gt;/*.jpg|png.</summary>
    ImageFolder,

    /// <summary>Tar shards written by <c>plateau data pack</c> with a manifest.json.</summary>
    Shards,
}
