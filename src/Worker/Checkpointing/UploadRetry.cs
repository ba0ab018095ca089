using Grpc.Core;

namespace Plateau.Worker.Checkpointing;

/// <summary>
/// When an interrupted checkpoint upload is continued rather than given up (the checkpoint then aborts and
/// the next one tries again), and how long to wait first. The coordinator keeps what arrived, so a
/// continued upload sends only the rest (<c>UploadStatus</c>, then <c>Upload</c> at that offset).
/// </summary>
public static class UploadRetry
{
    /// <summary>Attempts in all, the first included: with the delays below, about a minute of a coordinator
    /// that restarts or a connection that drops before the checkpoint is given up.</summary>
    public const int MaxAttempts = 6;

    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(30);

    /// <summary>A lost connection, a coordinator restarting or still receiving the broken stream: worth another
    /// attempt. An answer about the request itself (token, generation, arguments) is final.</summary>
    public static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted;

    public static bool ShouldContinue(StatusCode code, int failedAttempt) => IsTransient(code) && failedAttempt < MaxAttempts;

    /// <summary>1 s after the first failure, doubling, at most 30 s.</summary>
    public static TimeSpan DelayAfter(int failedAttempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempt, 1);
        var delay = FirstDelay * Math.Pow(2, Math.Min(failedAttempt - 1, 10));
        return delay < LongestDelay ? delay : LongestDelay;
    }

    /// <summary>Where the next attempt starts: what the coordinator holds, or 0 when it holds more than this
    /// worker's file (not this file's bytes).</summary>
    public static long ContinueAt(long receivedBytes, long localBytes) => receivedBytes <= localBytes ? receivedBytes : 0;
}
