namespace Plateau.Worker.Training;

/// <summary>How <see cref="GradientBuckets"/> moves gradients between the model's device and the host buffers the ring
/// reduces. The default follows the parameters' device: CPU → <see cref="Direct"/>, any other → <see cref="Staged"/>.</summary>
public enum GradientStaging
{
    /// <summary>Each gradient's slot is a view over its bucket's host buffer: packing and unpacking are one copy per
    /// gradient. Right on the CPU (a memory copy, nothing to stage); on a GPU every such copy would be a synchronous
    /// device↔host transfer.</summary>
    Direct,

    /// <summary>Each bucket has a flat tensor on the gradients' device; packing and unpacking are device-local copies into
    /// and out of it, and the bucket crosses to the host buffer (page-locked on CUDA) and back in one copy each
    /// (asynchronous on CUDA), with one wait per bucket before the ring reads it (<see cref="BucketStaging"/>).</summary>
    Staged,
}
