namespace Plateau.Data.Transforms;

/// <summary>The transforms the papers use, by name (what a job spec selects).</summary>
public static class StandardTransforms
{
    /// <summary>ResNet paper ImageNet training: scale [256, 480], crop 224, flip, PCA lighting 0.1.</summary>
    public static ISampleTransform PaperTrain(int cropSize = 224) => new ScaleAugmentTransform(256, 480, cropSize, 0.1);

    /// <summary>Inception-style alternative: RandomResizedCrop(224) + flip.</summary>
    public static ISampleTransform InceptionTrain(int size = 224) => new RandomResizedCropTransform(size);

    /// <summary>Single-crop evaluation: resize 256, centre 224.</summary>
    public static ISampleTransform Eval(int resizeTo = 256, int cropSize = 224) => new ResizeCenterCropTransform(resizeTo, cropSize);

    public static ISampleTransform TenCrop(int resizeTo = 256, int cropSize = 224) => new TenCropTransform(resizeTo, cropSize);

    /// <summary>CIFAR training: pad 4, random 32 crop, flip.</summary>
    public static ISampleTransform CifarTrain() => new PadCropFlipTransform(32, 4);

    /// <summary>CIFAR evaluation: the image as it is.</summary>
    public static ISampleTransform CifarEval() => new IdentityTransform(32, 32);

    /// <summary>Looks a transform up by the name used in job specs and on the command line.</summary>
    public static ISampleTransform ByName(string name, int imageSize) => name switch
    {
        "paper" or "paper-train" => PaperTrain(imageSize),
        "inception" or "random-resized-crop" => InceptionTrain(imageSize),
        "eval" or "center" => Eval((int)Math.Round(imageSize * 256.0 / 224), imageSize),
        "ten-crop" => TenCrop((int)Math.Round(imageSize * 256.0 / 224), imageSize),
        "cifar-train" => new PadCropFlipTransform(imageSize, 4),
        "cifar-eval" or "identity" => new IdentityTransform(imageSize, imageSize),
        _ => throw new ArgumentException($"unknown transform '{name}'; expected paper, inception, eval, ten-crop, cifar-train or cifar-eval", nameof(name)),
    };
}
