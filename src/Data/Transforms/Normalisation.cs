namespace Plateau.Data.Transforms;

/// <summary>Per-channel mean and standard deviation on the [0, 1] pixel scale, RGB order.</summary>
public sealed record Normalisation(float[] Mean, float[] Std)
{
    /// <summary>The ImageNet statistics used by torchvision and timm.</summary>
    public static Normalisation ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>CIFAR-10 training-set statistics.</summary>
    public static Normalisation Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    /// <summary>No change beyond scaling to [0, 1].</summary>
    public static Normalisation None { get; } = new([0f, 0f, 0f], [1f, 1f, 1f]);

    public void Validate()
    {
        if (Mean is not { Length: 3 } || Std is not { Length: 3 })
        {
            throw new ArgumentException("normalisation needs 3 means and 3 standard deviations (RGB)");
        }
        if (Std.Any(s => !(s > 0)))
        {
            throw new ArgumentException("normalisation standard deviations must be positive");
        }
    }
}
