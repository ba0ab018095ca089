namespace Plateau.Collective;

/// <summary>
/// A collective operation could not complete. <see cref="FailedRank"/> and <see cref="FailedAddress"/>
/// name the peer that died, stalled, refused or disagreed (or this rank itself when it was cancelled
/// locally). The group that threw is broken: re-form the ring under a new generation.
/// </summary>
public sealed class CollectiveException : Exception
{
    public CollectiveException()
        : this("collective operation failed", -1, null)
    {
    }

    public CollectiveException(string message)
        : this(message, -1, null)
    {
    }

    public CollectiveException(string message, Exception innerException)
        : this(message, -1, null, innerException)
    {
    }

    public CollectiveException(string message, int failedRank, string? failedAddress, Exception? innerException = null)
        : base(message, innerException)
    {
        FailedRank = failedRank;
        FailedAddress = failedAddress;
    }

    /// <summary>The rank that failed, or -1 when no single rank is to blame.</summary>
    public int FailedRank { get; }

    /// <summary>The failed rank's collective address (as given in <see cref="RingOptions.Peers"/>), when known.</summary>
    public string? FailedAddress { get; }
}
