using System.CommandLine;
using Grpc.Core;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>Runs one job command against the coordinator: opens the channel, maps failures to messages and exit codes.</summary>
internal static class JobCalls
{
    public delegate Task<int> Body(CoordinatorConnection connection, TextWriter output, TextWriter error, CancellationToken cancellation);

    public static async Task<int> RunAsync(ParseResult parse, JobCommandOptions options, string? jobId, Body body, CancellationToken cancellation)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var timeout = TimeSpan.FromSeconds(parse.GetValue(options.Timeout));
        using var connection = CoordinatorConnection.TryOpen(parse.GetValue(options.Coordinator)!, timeout, parse.GetValue(options.Token), parse.GetValue(options.CaCertificate), out var problem);
        if (connection is null)
        {
            error.WriteLine(problem);
            return JobExitCodes.Unreachable;
        }

        try
        {
            return await body(connection, output, error, cancellation);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellation.IsCancellationRequested)
        {
            return Interrupted(error);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Interrupted(error);
        }
        catch (RpcException e)
        {
            return RpcFailures.Report(e, connection.Address, connection.CallTimeout, jobId, error);
        }
    }

    private static int Interrupted(TextWriter error)
    {
        error.WriteLine("interrupted; the job on the coordinator is not affected");
        return JobExitCodes.Interrupted;
    }
}
