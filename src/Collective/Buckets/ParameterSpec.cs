namespace Plateau.Collective.Buckets;

/// <summary>A model parameter as the reducer sees it: state_dict name, shape and whether it gets a gradient.</summary>
public sealed class ParameterSpec
{
    public ParameterSpec(string name, IReadOnlyList<long> shape, bool requiresGrad = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), $"parameter '{name}' has a negative dimension: [{string.Join(", ", shape)}]");
        }
        Name = name;
        Shape = [.. shape];
        RequiresGrad = requiresGrad;
        ElementCount = Shape.Aggregate(1L, (product, d) => checked(product * d));
    }

    public string Name { get; }

    public IReadOnlyList<long> Shape { get; }

    public bool RequiresGrad { get; }

    public long ElementCount { get; }

    /// <summary>Canonical one-line form used for fingerprints and mismatch messages.</summary>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]{(RequiresGrad ? "" : " (frozen)")}";
}
