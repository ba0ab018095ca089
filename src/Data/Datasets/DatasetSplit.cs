namespace Plateau.Data.Datasets;

public enum DatasetSplit
{
    Train,

    /// <summary>Held-out validation: ImageNet val/, CIFAR's last 10% of training records when
    /// <see cref="DatasetSpec.HoldOutValidation"/> is on (the paper's 45k/5k), else CIFAR test_batch.</summary>
    Validation,

    /// <summary>CIFAR test_batch.bin (ImageNet has no public test labels: same as validation).</summary>
    Test,
}
