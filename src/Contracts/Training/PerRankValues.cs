namespace Plateau.Contracts.Training;

/// <summary>One number per rank, by rank; equal when the numbers are (so records holding it compare by value).</summary>
[GenerateSerializer, Immutable, Alias("plateau.PerRankValues")]
public sealed record PerRankValues([property: Id(0)] IReadOnlyList<double> Values)
{
    public static PerRankValues Empty { get; } = new([]);

    public bool Equals(PerRankValues? other) => other is not null && Values.SequenceEqual(other.Values);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var value in Values)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}
