namespace Plateau.Data.Transforms;

/// <summary>
/// One output view of a sample: the source rectangle (full-resolution pixel coordinates, may be fractional; may
/// extend past the image only for unscaled pad-crops, where the outside is zero) resampled to the transform's output
/// size, optionally mirrored horizontally.
/// </summary>
public readonly record struct CropPlan(double X, double Y, double Width, double Height, bool Flip);
