using System.Security.Cryptography;
using System.Text;

namespace Plateau.Collective.Buckets;

/// <summary>
/// The ordered parameter list a rank trains. Before the first step every rank calls
/// <see cref="VerifyAcrossRanksAsync"/>: a 32-byte fingerprint is all-gathered and, only if they
/// differ, the full lists, so the error can say which rank differs and where.
/// </summary>
public sealed class ParameterLayout
{
    public ParameterLayout(IReadOnlyList<ParameterSpec> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = [.. parameters];
    }

    public IReadOnlyList<ParameterSpec> Parameters { get; }

    /// <summary>SHA-256 over the canonical lines (name, shape, trainability, order).</summary>
    public byte[] Fingerprint() => SHA256.HashData(Encoding.UTF8.GetBytes(Describe()));

    /// <summary>One parameter per line, registration order.</summary>
    public string Describe() => string.Join('\n', Parameters.Select(p => p.ToString()));

    public static ParameterLayout Parse(string description) =>
        new(description.Length == 0 ? [] : [.. description.Split('\n').Select(ParseLine)]);

    /// <summary>Throws <see cref="CollectiveException"/> on every rank, naming the first differing rank, when the ranks' layouts differ.</summary>
    public async Task VerifyAcrossRanksAsync(ICollective group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        var fingerprints = await group.AllGatherAsync(Fingerprint(), cancellationToken);
        if (fingerprints.All(f => f.AsSpan().SequenceEqual(fingerprints[0])))
        {
            return;
        }
        var descriptions = await group.AllGatherAsync(Encoding.UTF8.GetBytes(Describe()), cancellationToken);
        var layouts = descriptions.Select(d => Parse(Encoding.UTF8.GetString(d))).ToArray();
        // The reference is the layout most ranks hold (rank order breaks ties), so one odd rank out is the one named.
        var reference = Enumerable.Range(0, layouts.Length)
            .GroupBy(r => Convert.ToHexString(fingerprints[r]))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Min())
            .First().Min();
        var differing = Enumerable.Range(0, layouts.Length).Where(r => !fingerprints[r].AsSpan().SequenceEqual(fingerprints[reference])).ToArray();
        var first = differing[0];
        var message = $"model parameters differ across ranks: rank {first} {Difference(layouts[reference], layouts[first], reference, first)}" +
            (differing.Length > 1 ? $" (ranks differing from rank {reference}: {string.Join(", ", differing)})" : "");
        throw new CollectiveException(message, first, null);
    }

    internal static string Difference(ParameterLayout reference, ParameterLayout other, int referenceRank, int otherRank)
    {
        var count = Math.Min(reference.Parameters.Count, other.Parameters.Count);
        for (var i = 0; i < count; i++)
        {
            var a = reference.Parameters[i];
            var b = other.Parameters[i];
            if (a.Name != b.Name)
            {
                return $"has '{b.Name}' at position {i} where rank {referenceRank} has '{a.Name}'";
            }
            if (!a.Shape.SequenceEqual(b.Shape))
            {
                return $"has shape [{string.Join(", ", b.Shape)}] for '{a.Name}' (position {i}) where rank {referenceRank} has [{string.Join(", ", a.Shape)}]";
            }
            if (a.RequiresGrad != b.RequiresGrad)
            {
                return $"has '{a.Name}' {(b.RequiresGrad ? "trainable" : "frozen")} where rank {referenceRank} has it {(a.RequiresGrad ? "trainable" : "frozen")}";
            }
        }
        return other.Parameters.Count > reference.Parameters.Count
            ? $"has {other.Parameters.Count} parameters, {other.Parameters.Count - count} more than rank {referenceRank} (first extra: '{other.Parameters[count].Name}')"
            : $"has {other.Parameters.Count} parameters, {reference.Parameters.Count - count} fewer than rank {referenceRank} (first missing: '{reference.Parameters[count].Name}')";
    }

    private static ParameterSpec ParseLine(string line)
    {
        var open = line.LastIndexOf(" [", StringComparison.Ordinal);
        var close = line.IndexOf(']', open);
        var dims = line[(open + 2)..close];
        var shape = dims.Length == 0 ? [] : dims.Split(", ").Select(long.Parse).ToArray();
        return new ParameterSpec(line[..open], shape, !line.EndsWith("(frozen)", StringComparison.Ordinal));
    }
}
