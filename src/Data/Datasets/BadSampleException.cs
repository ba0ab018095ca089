namespace Plateau.Data.Datasets;

/// <summary>One sample could not be read or decoded; the loader skips it and counts it.</summary>
public sealed class BadSampleException : Exception
{
    public BadSampleException()
    {
    }

    public BadSampleException(string message)
        : base(message)
    {
    }

    public BadSampleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BadSampleException(string sampleSource, string reason, Exception? innerException)
        : base($"bad sample {sampleSource}: {reason}", innerException)
    {
        SampleSource = sampleSource;
        Reason = reason;
    }

    /// <summary>The sample's origin (path or shard member).</summary>
    public string SampleSource { get; } = string.Empty;

    public string Reason { get; } = string.Empty;
}
