namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// Exit codes of <c>plateau job …</c>, distinct per cause so scripts can branch on them.
/// <c>watch</c> (and <c>submit --watch</c>) exits with the job's outcome: 0 Completed, 1 Failed, 3 Cancelled.
/// </summary>
public static class JobExitCodes
{
    /// <summary>Success; for watch: the job Completed.</summary>
    public const int Ok = 0;

    /// <summary>watch: the job Failed. (System.CommandLine also answers 1 for a mistyped command line.)</summary>
    public const int JobFailed = 1;

    /// <summary>The spec is invalid (checked locally, nothing sent) or the coordinator answered INVALID_ARGUMENT.</summary>
    public const int InvalidInput = 2;

    /// <summary>watch: the job was Cancelled.</summary>
    public const int JobCancelled = 3;

    /// <summary>NOT_FOUND: no job with that id.</summary>
    public const int NotFound = 4;

    /// <summary>FAILED_PRECONDITION: the operation is not allowed in the job's phase (e.g. pausing a job that is not Running).</summary>
    public const int FailedPrecondition = 5;

    /// <summary>The coordinator could not be reached (UNAVAILABLE, connection refused, bad address).</summary>
    public const int Unreachable = 6;

    /// <summary>DEADLINE_EXCEEDED: the coordinator did not answer within --timeout.</summary>
    public const int Timeout = 7;

    /// <summary>Any other gRPC status (UNIMPLEMENTED, INTERNAL, …).</summary>
    public const int OtherError = 8;

    /// <summary>UNAUTHENTICATED: no token, or one the coordinator does not accept (--token, PLATEAU_TOKEN).</summary>
    public const int Unauthenticated = 9;

    /// <summary>ALREADY_EXISTS: the job id is taken, or the request id was used for a different submission.</summary>
    public const int AlreadyExists = 10;

    /// <summary>Interrupted by Ctrl-C (128 + SIGINT); the job itself is untouched.</summary>
    public const int Interrupted = 130;
}
