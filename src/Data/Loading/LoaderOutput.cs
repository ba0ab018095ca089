namespace Plateau.Data.Loading;

/// <summary>What the loader's image tensors hold.</summary>
public enum LoaderOutput
{
    /// <summary>uint8 pixels (4x smaller to move); normalise on the device with <see cref="Batch.ToDeviceNormalised"/>.</summary>
    Pixels,

    /// <summary>float32, already normalised (and lit) on the CPU decode threads.</summary>
    Normalised,
}
