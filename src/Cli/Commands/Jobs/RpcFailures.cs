using System.Globalization;
using Google.Rpc;
using Grpc.Core;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>Turns a gRPC status from the coordinator into a message a user can act on and an exit code.</summary>
public static class RpcFailures
{
    /// <summary>Writes the message for <paramref name="e"/> to <paramref name="error"/> and returns the exit code.</summary>
    public static int Report(RpcException e, Uri coordinator, TimeSpan timeout, string? jobId, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(error);
        var detail = e.Status.Detail;
        if (Inner<System.Security.Authentication.AuthenticationException>(e) is { } tls)
        {
            error.WriteLine($"cannot reach the coordinator at {Display(coordinator)}: the TLS handshake failed: {tls.Message}");
            error.WriteLine($"  (a self-signed coordinator certificate is trusted with --ca-cert or {JobCommandOptions.CaCertificateVariable})");
            return JobExitCodes.Unreachable;
        }

        switch (e.StatusCode)
        {
            case StatusCode.Unavailable:
                error.WriteLine($"cannot reach the coordinator at {Display(coordinator)}: {Cause(e)}");
                error.WriteLine($"  (is it running? give its address with --coordinator or {JobCommandOptions.AddressVariable})");
                return JobExitCodes.Unreachable;
            case StatusCode.DeadlineExceeded:
                error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"the coordinator at {Display(coordinator)} did not answer within {timeout.TotalSeconds:0.###} s (raise --timeout if it is busy)"));
                return JobExitCodes.Timeout;
            case StatusCode.InvalidArgument:
                error.WriteLine("the coordinator refused the request:");
                foreach (var message in FieldMessages(e))
                {
                    error.WriteLine($"  {message}");
                }

                return JobExitCodes.InvalidInput;
            case StatusCode.NotFound:
                error.WriteLine(jobId is null ? detail : $"no job named {jobId} on the coordinator at {Display(coordinator)}");
                return JobExitCodes.NotFound;
            case StatusCode.FailedPrecondition:
                error.WriteLine($"not possible now: {detail}");
                return JobExitCodes.FailedPrecondition;
            case StatusCode.AlreadyExists:
                error.WriteLine($"already exists: {detail}");
                return JobExitCodes.AlreadyExists;
            case StatusCode.Unauthenticated:
                error.WriteLine($"the coordinator at {Display(coordinator)} did not accept the credentials: {detail}");
                error.WriteLine($"  (give its token with --token or {JobCommandOptions.TokenVariable})");
                return JobExitCodes.Unauthenticated;
            case StatusCode.ResourceExhausted:
                error.WriteLine($"the coordinator refused the request as too large: {detail}");
                return JobExitCodes.InvalidInput;
            case StatusCode.Unimplemented:
                error.WriteLine($"the server at {Display(coordinator)} does not serve plateau.v1.JobService (is it a Plateau coordinator's gRPC port?): {detail}");
                return JobExitCodes.OtherError;
            default:
                error.WriteLine($"the coordinator at {Display(coordinator)} answered {e.StatusCode}: {detail}");
                return JobExitCodes.OtherError;
        }
    }

    /// <summary>
    /// "field: why" for each google.rpc.BadRequest field violation in the status details; a server that sends
    /// none gets its message shown whole.
    /// </summary>
    public static IReadOnlyList<string> FieldMessages(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var violations = e.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations;
        if (violations is { Count: > 0 })
        {
            return [.. violations.Select(v => $"{v.Field}: {v.Description}")];
        }

        return string.IsNullOrEmpty(e.Status.Detail) ? ["(no details given)"] : [e.Status.Detail];
    }

    private static string Display(Uri address) => address.GetLeftPart(UriPartial.Path).TrimEnd('/');

    private static T? Inner<T>(RpcException e) where T : Exception
    {
        for (var inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is T match)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>The innermost exception says what the socket saw ("Connection refused (127.0.0.1:5100)").</summary>
    private static string Cause(RpcException e)
    {
        var inner = e.Status.DebugException;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner?.Message ?? e.Status.Detail;
    }
}
