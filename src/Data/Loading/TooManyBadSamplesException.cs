namespace Plateau.Data.Loading;

/// <summary>More than the configured fraction of a run's samples were unreadable; the message names them.</summary>
public sealed class TooManyBadSamplesException : Exception
{
    public TooManyBadSamplesException()
    {
    }

    public TooManyBadSamplesException(string message)
        : base(message)
    {
    }

    public TooManyBadSamplesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TooManyBadSamplesException(IReadOnlyList<BadSample> samples, int planned, double fraction)
        : base(Describe(samples, planned, fraction))
    {
        Samples = samples;
    }

    public IReadOnlyList<BadSample> Samples { get; } = [];

    private static string Describe(IReadOnlyList<BadSample> samples, int planned, double fraction)
    {
        const int shown = 20;
        var list = string.Join("; ", samples.Take(shown).Select(s => $"{s.Source} ({s.Reason})"));
        var more = samples.Count > shown ? $"; and {samples.Count - shown} more" : string.Empty;
        return $"{samples.Count} of {planned} samples could not be read, more than the allowed {fraction:P2} (MaxBadSampleFraction): {list}{more}";
    }
}
