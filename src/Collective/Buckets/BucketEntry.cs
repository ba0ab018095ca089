namespace Plateau.Collective.Buckets;

/// <summary>Where one parameter's gradient lives inside its bucket's flat buffer.</summary>
/// <param name="ParameterIndex">Index in registration order (model.parameters()).</param>
/// <param name="Offset">First element in the bucket buffer.</param>
/// <param name="Length">Element count.</param>
public sealed record BucketEntry(int ParameterIndex, long Offset, long Length);
