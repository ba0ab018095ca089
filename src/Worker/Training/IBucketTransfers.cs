using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>The three device operations of the staged path (<see cref="GradientStaging.Staged"/>), one call per bucket
/// each; a seam for tests, which count and inspect them. The real one is <see cref="DeviceTransfers"/>.</summary>
internal interface IBucketTransfers
{
    /// <summary>Starts copying bucket <paramref name="bucket"/>'s packed gradients from the device into its host buffer
    /// (called on the packing thread, ordered after the packing copies on the device).</summary>
    void ToHost(int bucket, Tensor host, Tensor device);

    /// <summary>Returns once bucket <paramref name="bucket"/>'s <see cref="ToHost"/> copy has landed.</summary>
    void Synchronize(int bucket);

    /// <summary>Starts copying bucket <paramref name="bucket"/>'s reduced values from its host buffer to the device
    /// (ordered before the unpacking copies on the device).</summary>
    void ToDevice(int bucket, Tensor device, Tensor host);
}
