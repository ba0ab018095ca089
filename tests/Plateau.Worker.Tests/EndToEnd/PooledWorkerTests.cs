using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// A real coordinator process and one real pooled worker process (no <c>Plateau:Worker:JobId</c>): two small jobs
/// (ResNet-20 on a tiny synthetic set, 1 epoch each) are submitted together and the one worker trains them one after
/// another, going back to the pool in between without exiting.
/// </summary>
[Collection(LocalRunsTakeTurns.Name)]
public sealed class PooledWorkerTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);
    private readonly string _folder = Directory.CreateTempSubdirectory("plateau-pool-e2e-").FullName;
    private readonly List<(Process Process, StringWriter Output)> _hosts = [];

    [Fact]
    [Trait("Category", "Slow")]
    public async Task One_pooled_worker_trains_two_jobs_one_after_another()
    {
        var (silo, grpc) = (FreePort(), FreePort());
        string[] cluster = ["--Plateau:Cluster:ClusterId=pool-e2e", "--Plateau:Cluster:ServiceId=plateau-pool-e2e"];
        var coordinator = Host([
            "coordinator", .. cluster, $"--Plateau:Cluster:SiloPort={silo}", $"--Plateau:Cluster:GatewayPort={FreePort()}",
            $"--Plateau:Coordinator:GrpcPort={grpc}", "--Plateau:Coordinator:HealthPort=0", "--Plateau:Api:Auth:Enabled=false",
            $"--Plateau:Coordinator:StateDirectory={Path.Combine(_folder, "state")}",
            $"--Plateau:Checkpoints:RootDirectory={Path.Combine(_folder, "checkpoints")}", "--Plateau:Coordinator:RendezvousGraceSeconds=0"]);
        var worker = Host([
            "worker", .. cluster, $"--Plateau:Cluster:SiloPort={FreePort()}", "--Plateau:Cluster:GatewayPort=0",
            $"--Plateau:Cluster:PrimarySiloEndpoint=127.0.0.1:{silo}", "--Plateau:Worker:WorkerId=pooled-0",
            "--Plateau:Worker:Devices=1", "--Plateau:Worker:DeviceKind=cpu", "--Plateau:Worker:Threads=1",
            "--Plateau:Worker:DecodeThreads=1", "--Plateau:Worker:PoolPollSeconds=0.5"]);
        var spec = Path.Combine(_folder, "job.yaml");
        await File.WriteAllTextAsync(spec, $"""
            apiVersion: plateau/v1
            name: pooled
            model:
              name: resnet20_cifar
            dataset:
              kind: synthetic
              path: {Path.Combine(_folder, "synthetic")}
              options:
                train: "256"
                validation: "64"
            epochs: 1
            batch:
              global: 64
            workers:
              min: 1
              max: 1
              rendezvousTimeoutSeconds: 300
            seed: 1
            """);
        var api = $"http://127.0.0.1:{grpc}";

        // The coordinator listens once its silo has started: ask until it answers (a refused connection sends nothing).
        var deadline = DateTime.UtcNow.AddMinutes(2);
        (int Code, string Output) listing;
        while ((listing = await Cli(TimeSpan.FromSeconds(60), "job", "list", "--coordinator", api)).Code != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the coordinator did not answer within 2 minutes:\n{listing.Output}\n{Logs()}");
            await Task.Delay(500);
        }

        foreach (var job in new[] { "pool-first", "pool-second" })
        {
            var (code, output) = await Cli(TimeSpan.FromSeconds(120), "job", "submit", spec, "--name", job, "--coordinator", api, "--timeout", "60");
            Assert.True(code == 0, $"submitting {job} exited {code}:\n{output}\n{Logs()}");
        }

        foreach (var job in new[] { "pool-first", "pool-second" })
        {
            var (code, output) = await Cli(Limit, "job", "watch", job, "--coordinator", api);
            Assert.True(code == 0, $"job {job} did not complete ({code}):\n{output}\n{Logs()}");
        }

        var log = worker.Output.ToString();
        var first = log.IndexOf("(pooled) → job pool-first", StringComparison.Ordinal);
        var back = log.IndexOf("goes back to the pool from job pool-first: job Completed", StringComparison.Ordinal);
        var second = log.IndexOf("(pooled) → job pool-second", StringComparison.Ordinal);
        Assert.True(first >= 0 && back > first && second > back, $"the worker did not serve the jobs one after another:\n{Logs()}");
        Assert.False(worker.Process.HasExited, $"a pooled worker exited when its job ended:\n{Logs()}");
        Assert.False(coordinator.Process.HasExited, Logs());
    }

    private (Process Process, StringWriter Output) Host(string[] arguments)
    {
        var process = Process.Start(Start(arguments))!;
        var output = new StringWriter(CultureInfo.InvariantCulture);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _hosts.Add((process, output));
        return (process, output);
    }

    private static async Task<(int Code, string Output)> Cli(TimeSpan limit, params string[] arguments)
    {
        using var process = Process.Start(Start(arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {limit}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static ProcessStartInfo Start(string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "plateau"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static void Append(StringWriter output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.WriteLine(line);
            }
        }
    }

    private string Logs() => string.Join("\n", _hosts.Select((h, i) => $"--- {(i == 0 ? "coordinator" : "worker")}:\n{Tail(h.Output)}"));

    private static string Tail(StringWriter output)
    {
        lock (output)
        {
            var text = output.ToString();
            return text.Length > 6000 ? text[^6000..] : text;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        foreach (var (process, output) in _hosts)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }

            process.Dispose();
            output.Dispose();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a process still let go of a file
        }
    }
}
