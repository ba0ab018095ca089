namespace Plateau.Data.Datasets;

/// <summary>What the bytes of an <see cref="ImageSample"/> hold.</summary>
public enum SamplePayload
{
    /// <summary>An encoded image file (JPEG, PNG, ...), decoded by <see cref="Decoding.ImageDecoder"/>.</summary>
    Encoded,

    /// <summary>Raw 8-bit RGB pixels, height x width x 3, row major (CIFAR records).</summary>
    RawRgb,
}
