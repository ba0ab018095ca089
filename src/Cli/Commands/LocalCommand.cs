using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Data.Datasets;
using DatasetSpec = Plateau.Contracts.Specs.DatasetSpec;
using Plateau.Worker.Training;
using Spectre.Console;
using Proto = Plateau.Protos.V1;

namespace Plateau.Cli.Commands;

/// <summary>
/// <c>plateau local</c> (README command one): a coordinator and N worker processes on loopback with real
/// gRPC between them, training an SE-ResNet with the central plateau schedule on a synthetic CIFAR set
/// (or the CIFAR-10 / ImageNet folder given), live progress, and a summary at the end. Every child is
/// this same binary (<c>plateau coordinator</c>, <c>plateau worker</c>); Ctrl-C cancels the job and
/// kills every child's process tree, and the children also stop by themselves if this process dies.
/// </summary>
public static class LocalCommand
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var data = new Option<string?>("--data") { Description = "CIFAR-10 (binary) or ImageNet folder; default: a synthetic CIFAR-format set generated under .plateau/data." };
        var workers = new Option<int>("--workers") { Description = "Worker processes.", DefaultValueFactory = _ => 2 };
        var devices = new Option<int>("--devices-per-worker") { Description = "CPU \"devices\" (ranks) per worker.", DefaultValueFactory = _ => 1 };
        var model = new Option<string?>("--model") { Description = "Model name (plateau models); default se_resnet20_cifar, se_resnet50 for ImageNet." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { Description = "Global batch (split evenly across ranks).", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Base learning rate.", DefaultValueFactory = _ => 0.1 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "SGD weight decay.", DefaultValueFactory = _ => 1e-4 };
        var patience = new Option<int>("--patience") { Description = "Plateau patience: evaluations without improvement before the rate drops (0 suits short runs).", DefaultValueFactory = _ => 0 };
        var factor = new Option<double>("--factor") { Description = "Plateau factor: the rate is multiplied by this on a plateau.", DefaultValueFactory = _ => 0.1 };
        var threshold = new Option<double>("--threshold") { Description = "Plateau threshold (relative): smaller improvements do not count.", DefaultValueFactory = _ => 0.02 };
        var trainImages = new Option<int>("--synthetic-train") { Description = "Synthetic training images.", DefaultValueFactory = _ => 5000 };
        var valImages = new Option<int>("--synthetic-val") { Description = "Synthetic validation images.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Job seed (initial weights, data order, synthetic set).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads per worker; default: the cores divided among the ranks." };
        var spec = new Option<string?>("--spec") { Description = "A plateau/v1 job spec (YAML/JSON) to run instead of the one built from these options." };
        var dir = new Option<string?>("--dir") { Description = "Folder for state, checkpoints and logs; default .plateau/local-<time>." };
        var plain = new Option<bool>("--plain") { Description = "Plain progress lines even on a terminal." };
        var command = new Command("local", "Train on this machine: a coordinator and N worker processes on loopback, live progress, summary at the end.")
        {
            data, workers, devices, model, epochs, batch, lr, weightDecay, patience, factor, threshold, trainImages, valImages, seed, threads, spec, dir, plain,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new LocalSettings(
                parseResult.GetValue(data), parseResult.GetValue(workers), parseResult.GetValue(devices), parseResult.GetValue(model),
                parseResult.GetValue(epochs), parseResult.GetValue(batch), parseResult.GetValue(lr), parseResult.GetValue(weightDecay),
                parseResult.GetValue(patience), parseResult.GetValue(factor), parseResult.GetValue(threshold),
                parseResult.GetValue(trainImages), parseResult.GetValue(valImages), parseResult.GetValue(seed), parseResult.GetValue(threads),
                parseResult.GetValue(spec), parseResult.GetValue(dir), parseResult.GetValue(plain) || Console.IsOutputRedirected,
                parseResult.GetResult(workers) is { Implicit: false });
            return await RunAsync(settings, Console.Out, cancellationToken);
        });
        return command;
    }

    /// <summary>Stops <paramref name="host"/> when process <paramref name="parentPid"/> exits, so children never outlive <c>plateau local</c>.</summary>
    public static void StopWithParent(IHost host, int? parentPid)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (parentPid is not { } pid)
        {
            return;
        }

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await timer.WaitForNextTickAsync(lifetime.ApplicationStopping))
            {
                if (!IsAlive(pid))
                {
                    Environment.ExitCode = 130;
                    lifetime.StopApplication();
                    return;
                }
            }
        });
    }

    /// <summary>Builds the job spec from the options (or reads --spec), checks it, and runs it to the end.</summary>
    public static async Task<int> RunAsync(LocalSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        var started = Stopwatch.StartNew();
        var root = Path.GetFullPath(settings.Dir ?? Path.Combine(".plateau", "local-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", Invariant)));
        JobSpec spec;
        try
        {
            spec = BuildSpec(settings, root, output);
        }
        catch (Exception e) when (e is ArgumentException or JobSpecInvalidException or DatasetFormatException or IOException)
        {
            await output.WriteLineAsync($"plateau local: {e.Message}");
            return 2;
        }

        var problems = JobSpecValidator.Validate(spec, WorkerModels.Check).ToList();
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await output.WriteLineAsync($"plateau local: {problem.Field}: {problem.Message}");
            }

            return 2;
        }

        var workerCount = spec.Workers.Max;
        var ranks = workerCount * spec.Workers.DevicesPerWorker;
        var threads = settings.Threads > 0 ? settings.Threads : Math.Max(1, Environment.ProcessorCount / ranks) * spec.Workers.DevicesPerWorker;
        Directory.CreateDirectory(Path.Combine(root, "logs"));
        await using var children = new ChildProcesses(Path.Combine(root, "logs"), root);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });

        var clusterId = "local-" + Guid.NewGuid().ToString("N")[..8];
        var coordinatorSilo = FreePort();
        var grpcPort = FreePort();
        int[] metricsPorts = [.. Enumerable.Range(0, workerCount + 1).Select(_ => FreePort())];
        string[] cluster = [$"--Plateau:Cluster:ClusterId={clusterId}", "--Plateau:Cluster:ServiceId=plateau-local"];
        children.Start("coordinator", [
            "coordinator", .. cluster,
            $"--Plateau:Cluster:SiloPort={coordinatorSilo}", $"--Plateau:Cluster:GatewayPort={FreePort()}",
            $"--Plateau:Coordinator:GrpcPort={grpcPort}", "--Plateau:Coordinator:HealthPort=0",
            $"--Plateau:Coordinator:StateDirectory={Path.Combine(root, "state")}",
            $"--Plateau:Checkpoints:RootDirectory={Path.Combine(root, "checkpoints")}",
            "--Plateau:Coordinator:RendezvousGraceSeconds=1", $"--Plateau:Telemetry:MetricsPort={metricsPorts[0]}"]);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var client = new Proto.JobService.JobServiceClient(channel);
        var jobId = "local-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", Invariant);
        Proto.Job job;
        try
        {
            job = await SubmitAsync(client, jobId, JobSpecJson.Serialize(spec), children, cancel.Token);
        }
        catch (Exception e) when (e is RpcException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            await output.WriteLineAsync($"plateau local: could not submit the job: {Describe(e)}; coordinator log: {children.LogOf("coordinator")}");
            return cancel.IsCancellationRequested ? 130 : 1;
        }

        await output.WriteLineAsync(string.Create(Invariant,
            $"job {jobId}: {spec.Model.Name} on {Describe(spec.Dataset)}, {workerCount} workers × {spec.Workers.DevicesPerWorker} device(s), {threads} thread(s) each, global batch {spec.Batch.Global}, {spec.Epochs} epochs"));
        for (var w = 0; w < workerCount; w++)
        {
            children.Start($"worker-{w}", [
                "worker", .. cluster,
                $"--Plateau:Cluster:SiloPort={FreePort()}", "--Plateau:Cluster:GatewayPort=0",
                $"--Plateau:Cluster:PrimarySiloEndpoint=127.0.0.1:{coordinatorSilo}",
                $"--Plateau:Worker:WorkerId=worker-{w}", $"--Plateau:Worker:JobId={jobId}",
                $"--Plateau:Worker:Devices={spec.Workers.DevicesPerWorker}", "--Plateau:Worker:DeviceKind=cpu",
                $"--Plateau:Worker:Threads={threads}", "--Plateau:Worker:DecodeThreads=1", $"--Plateau:Telemetry:MetricsPort={metricsPorts[w + 1]}"]);
        }

        await output.WriteLineAsync("metrics (Prometheus): " + string.Join(", ", metricsPorts.Select((port, i) => $"{(i == 0 ? "coordinator" : $"worker-{i - 1}")} http://127.0.0.1:{port}/metrics")));
        var display = new LocalDisplay(output, settings.Plain);
        var interrupted = false;
        try
        {
            job = await WatchAsync(client, jobId, display, children, cancel.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException && cancel.IsCancellationRequested)
        {
            interrupted = true;
            await output.WriteLineAsync("plateau local: interrupted; cancelling the job and stopping every process");
            try
            {
                job = await client.CancelJobAsync(new Proto.CancelJobRequest { JobId = jobId, Reason = "interrupted (Ctrl-C)" }, deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: CancellationToken.None);
            }
            catch (RpcException)
            {
                // the coordinator is going away with everything else
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            await output.WriteLineAsync($"plateau local: lost the coordinator: {Describe(e)}; coordinator log: {children.LogOf("coordinator")}");
            return 1;
        }

        if (!interrupted)
        {
            // Workers leave by themselves once the job ends; the coordinator is stopped after them.
            await children.WaitForExitAsync(c => c.StartsWith("worker-", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        }

        var report = await WriteReportAsync(client, jobId, Path.Combine(root, "report.html"));
        await children.DisposeAsync();
        display.Summary(job, started.Elapsed, Path.Combine(root, "checkpoints", jobId), Path.Combine(root, "logs"));
        await output.WriteLineAsync($"report: {report}");
        return interrupted ? 130 : job.Phase == Proto.JobPhase.Completed ? 0 : 1;
    }

    private static JobSpec BuildSpec(LocalSettings settings, string root, TextWriter output)
    {
        if (settings.SpecFile is { } file)
        {
            var loaded = JobSpecLoader.LoadFile(file);
            return settings.WorkersGiven ? loaded with { Workers = loaded.Workers with { Min = settings.Workers, Max = settings.Workers } } : loaded;
        }

        DatasetSpec dataset;
        string model;
        if (settings.Data is { } path)
        {
            var format = DatasetFactory.Detect(Path.GetFullPath(path));
            var kind = format switch
            {
                DatasetFormat.Cifar10 => DatasetKind.Cifar10,
                DatasetFormat.ImageNet => DatasetKind.ImageNet,
                _ => throw new ArgumentException($"--data {path}: found a {format} dataset; plateau local trains CIFAR-10 binary or ImageNet folders"),
            };
            dataset = new DatasetSpec { Kind = kind, Path = Path.GetFullPath(path) };
            model = settings.Model ?? (kind == DatasetKind.ImageNet ? "se_resnet50" : "se_resnet20_cifar");
        }
        else
        {
            var cache = settings.Dir is null ? Path.Combine(".plateau", "data") : Path.Combine(root, "data");
            var synthetic = Path.GetFullPath(Path.Combine(cache, string.Create(Invariant, $"synthetic-{settings.SyntheticTrain}-{settings.SyntheticValidation}-s{settings.Seed}")));
            if (CifarBinaryDataset.ResolveDirectory(synthetic) is null)
            {
                output.WriteLine($"generating the synthetic CIFAR-format set ({settings.SyntheticTrain} + {settings.SyntheticValidation} images) in {synthetic}");
            }

            TrainingData.EnsureSynthetic(synthetic, settings.SyntheticTrain, settings.SyntheticValidation, settings.Seed);
            dataset = new DatasetSpec
            {
                Kind = DatasetKind.Synthetic,
                Path = synthetic,
                Options = new Dictionary<string, string>
                {
                    ["train"] = settings.SyntheticTrain.ToString(Invariant),
                    ["validation"] = settings.SyntheticValidation.ToString(Invariant),
                },
            };
            model = settings.Model ?? "se_resnet20_cifar";
        }

        return new JobSpec
        {
            Name = "local",
            Model = new ModelSpec { Name = model },
            Dataset = dataset,
            Epochs = settings.Epochs,
            Batch = new BatchSpec { Global = settings.Batch },
            Optimizer = new OptimizerSpec { Lr = settings.Lr, Momentum = 0.9, WeightDecay = settings.WeightDecay },
            Schedule = new ScheduleSpec
            {
                Plateau = new PlateauScheduleSpec
                {
                    Metric = PlateauMetric.ValTop1Error,
                    Factor = settings.Factor,
                    Patience = settings.Patience,
                    Threshold = settings.Threshold,
                    MinLr = 1e-5,
                },
            },
            Evaluation = new EvaluationSpec { EveryEpochs = 1 },
            Workers = new WorkersSpec { Min = settings.Workers, Max = settings.Workers, DevicesPerWorker = settings.DevicesPerWorker, RendezvousTimeoutSeconds = 180 },
            Seed = settings.Seed,
            Checkpoint = new CheckpointPolicySpec { EveryEpochs = 1, Keep = 3 },
        };
    }

    /// <summary>The run report, written while the coordinator is still up; the path, or why there is none.</summary>
    private static async Task<string> WriteReportAsync(Proto.JobService.JobServiceClient client, string jobId, string path)
    {
        try
        {
            await Reports.RunReportWriter.WriteAsync(client, jobId, path, TimeSpan.FromSeconds(15), CancellationToken.None);
            return path;
        }
        catch (Exception e) when (e is RpcException or IOException or UnauthorizedAccessException)
        {
            return $"not written ({Describe(e)})";
        }
    }

    private static async Task<Proto.Job> SubmitAsync(Proto.JobService.JobServiceClient client, string jobId, string spec, ChildProcesses children, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                return await client.SubmitJobAsync(new Proto.SubmitJobRequest { JobId = jobId, Spec = spec }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                if (children.Exited("coordinator") is { } code)
                {
                    throw new InvalidOperationException($"the coordinator exited with code {code}");
                }

                await Task.Delay(500, cancellationToken);
            }
        }
    }

    private static async Task<Proto.Job> WatchAsync(Proto.JobService.JobServiceClient client, string jobId, LocalDisplay display, ChildProcesses children, CancellationToken cancellationToken)
    {
        long after = 0;
        Proto.Job? snapshot = null;
        while (true)
        {
            try
            {
                using var call = client.WatchJob(new Proto.WatchJobRequest { JobId = jobId, AfterSequence = after }, cancellationToken: cancellationToken);
                await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    switch (update.UpdateCase)
                    {
                        case Proto.JobUpdate.UpdateOneofCase.Snapshot:
                            snapshot = update.Snapshot;
                            display.Snapshot(snapshot);
                            break;
                        case Proto.JobUpdate.UpdateOneofCase.Event:
                            after = Math.Max(after, update.Event.Sequence);
                            display.Event(update.Event);
                            break;
                        case Proto.JobUpdate.UpdateOneofCase.Progress:
                            display.Progress(update.Progress);
                            break;
                    }
                }

                var final = await client.GetJobAsync(new Proto.GetJobRequest { JobId = jobId }, cancellationToken: cancellationToken);
                if (final.Phase is Proto.JobPhase.Completed or Proto.JobPhase.Failed or Proto.JobPhase.Cancelled)
                {
                    return final;
                }
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
            {
                if (children.Exited("coordinator") is { } code)
                {
                    throw new InvalidOperationException($"the coordinator exited with code {code}", e);
                }

                await Task.Delay(500, cancellationToken);
            }

            _ = snapshot;
        }
    }

    private static string Describe(DatasetSpec dataset) => dataset.Kind switch
    {
        DatasetKind.Synthetic => $"the synthetic set ({dataset.Options.GetValueOrDefault("train")} train / {dataset.Options.GetValueOrDefault("validation")} validation images)",
        _ => $"{dataset.Kind} at {dataset.Path}",
    };

    private static string Describe(Exception e) => e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The options of one <c>plateau local</c> run.</summary>
    public sealed record LocalSettings(
        string? Data, int Workers, int DevicesPerWorker, string? Model, int Epochs, int Batch, double Lr, double WeightDecay,
        int Patience, double Factor, double Threshold, int SyntheticTrain, int SyntheticValidation, long Seed, int Threads,
        string? SpecFile, string? Dir, bool Plain, bool WorkersGiven);

    /// <summary>The child processes (this binary with a subcommand), their logs, and their process trees.</summary>
    private sealed class ChildProcesses(string logDirectory, string workingDirectory) : IAsyncDisposable
    {
        private readonly Dictionary<string, (Process Process, StreamWriter Log)> _children = [];

        public void Start(string name, IReadOnlyList<string> arguments)
        {
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable this is");
            var start = new ProcessStartInfo(self)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                // The run folder: no stray appsettings.json is picked up; every setting is an argument.
                WorkingDirectory = workingDirectory,
            };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(LocalCommand).Assembly.Location);
            }

            foreach (var argument in arguments.Take(1))
            {
                start.ArgumentList.Add(argument);
            }

            start.ArgumentList.Add("--exit-with");
            start.ArgumentList.Add(Environment.ProcessId.ToString(Invariant));
            foreach (var argument in arguments.Skip(1))
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["DOTNET_gcServer"] = "0";
            var log = new StreamWriter(Path.Combine(logDirectory, name + ".log"), append: false) { AutoFlush = true };
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => Write(log, e.Data);
            process.ErrorDataReceived += (_, e) => Write(log, e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _children[name] = (process, log);
        }

        public string LogOf(string name) => Path.Combine(logDirectory, name + ".log");

        public int? Exited(string name) =>
            _children.TryGetValue(name, out var child) && child.Process.HasExited ? child.Process.ExitCode : null;

        public async Task WaitForExitAsync(Func<string, bool> which, TimeSpan timeout)
        {
            using var limit = new CancellationTokenSource(timeout);
            try
            {
                await Task.WhenAll(_children.Where(c => which(c.Key)).Select(c => c.Value.Process.WaitForExitAsync(limit.Token)));
            }
            catch (OperationCanceledException)
            {
                // the rest is killed on dispose
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var (_, (process, _)) in _children)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
            }

            foreach (var (_, (process, log)) in _children)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(limit.Token);
                }
                catch (OperationCanceledException)
                {
                    // reported by the OS as a zombie at worst; nothing else to do
                }

                lock (log)
                {
                    log.Dispose();
                }

                process.Dispose();
            }

            _children.Clear();
        }

        private static void Write(StreamWriter log, string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                try
                {
                    log.WriteLine(line);
                }
                catch (ObjectDisposedException)
                {
                    // the child outlived its log by a line
                }
            }
        }
    }

    /// <summary>Live progress (Spectre.Console status on a terminal, plain lines otherwise) and the final summary.</summary>
    private sealed class LocalDisplay(TextWriter output, bool plain)
    {
        private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
        private int _totalEpochs;
        private double? _valError;
        private double _lr;
        private bool _live;

        public void Snapshot(Proto.Job job)
        {
            _totalEpochs = job.TotalEpochs;
            _lr = job.LearningRate;
            if (job.LatestMetrics?.HasValTop1Error == true)
            {
                _valError = job.LatestMetrics.ValTop1Error;
            }

            Line($"phase {Phase(job.Phase)}: {job.PhaseReason}");
        }

        public void Event(Proto.JobEvent e)
        {
            switch (e.Kind)
            {
                case "lr_decision":
                    Line($"LR  {e.Message}", "yellow");
                    break;
                case "epoch_metrics":
                    Line($"    {e.Message}", "green");
                    var marker = e.Message.IndexOf("val top-1 error ", StringComparison.Ordinal);
                    if (marker >= 0 && double.TryParse(e.Message[(marker + 16)..].Split('%')[0], NumberStyles.Float, Invariant, out var error))
                    {
                        _valError = error / 100;
                    }

                    break;
                case "failure":
                    Line($"!!  {e.Message}", "red");
                    break;
                case "transition":
                    Line($"    {e.Message}", "blue");
                    break;
                default:
                    Line($"    {e.Message}");
                    break;
            }
        }

        public void Progress(Proto.Progress p)
        {
            _lr = p.LearningRate;
            if (!plain && _sinceLine.Elapsed < TimeSpan.FromMilliseconds(500))
            {
                return;
            }

            if (plain && _sinceLine.Elapsed < TimeSpan.FromSeconds(10))
            {
                return;
            }

            var inEpoch = p.StepsInEpoch > 0 ? (double)(p.GlobalStep - (p.Epoch * p.StepsInEpoch)) / p.StepsInEpoch : 0;
            inEpoch = Math.Clamp(inEpoch, 0, 1);
            const int width = 24;
            var filled = (int)Math.Round(inEpoch * width);
            var bar = new string('#', filled) + new string('.', width - filled);
            var text = string.Create(Invariant,
                $"epoch {p.Epoch + 1}/{_totalEpochs} [{bar}] {inEpoch * 100,3:0}%  step {p.GlobalStep}  {p.ImagesPerSecond,6:0} img/s  loss {(double.IsNaN(p.Loss) ? "-" : p.Loss.ToString("0.000", Invariant))}  val err {(_valError is { } v ? (v * 100).ToString("0.0", Invariant) + "%" : "-")}  lr {p.LearningRate:G3}  data {p.DataWaitShare * 100:0}%  all-reduce {p.AllReduceShare * 100:0}%");
            if (plain)
            {
                output.WriteLine(text);
            }
            else
            {
                output.Write("\r" + text.PadRight(Math.Max(text.Length, Console.WindowWidth - 1))[..Math.Max(1, Math.Min(text.Length, Console.WindowWidth - 1))]);
                _live = true;
            }

            _sinceLine.Restart();
        }

        public void Summary(Proto.Job job, TimeSpan wall, string checkpoints, string logs)
        {
            EndLive();
            output.WriteLine();
            output.WriteLine($"job {job.JobId}: {Phase(job.Phase)} — {job.PhaseReason}");
            var last = job.MetricsHistory.LastOrDefault(m => m.HasValTop1Error);
            var best = job.MetricsHistory.Where(m => m.HasValTop1Error).OrderBy(m => m.ValTop1Error).FirstOrDefault();
            if (last is not null)
            {
                output.WriteLine(string.Create(Invariant,
                    $"final val top-1 error {last.ValTop1Error * 100:0.00}% (top-5 {last.ValTop5Error * 100:0.00}%, {last.ValSamples} images) after epoch {last.Epoch + 1}; best {best!.ValTop1Error * 100:0.00}% (epoch {best.Epoch + 1})"));
            }

            output.WriteLine("learning-rate decisions:");
            foreach (var decision in job.LrDecisions)
            {
                output.WriteLine(string.Create(Invariant, $"  epoch {decision.Epoch,3}, step {decision.GlobalStep,6} [{decision.Kind}] {decision.Reason}"));
            }

            output.WriteLine(string.Create(Invariant, $"wall time {wall:h\\:mm\\:ss}; generation {job.Generation}, {job.Restarts} restart(s)"));
            if (job.LatestCheckpoint is { } checkpoint && !string.IsNullOrEmpty(checkpoint.CheckpointId))
            {
                output.WriteLine($"checkpoints: {checkpoints} (latest {checkpoint.CheckpointId}, epoch {checkpoint.Epoch})");
            }

            output.WriteLine($"logs: {logs}");
        }

        private void Line(string text, string? colour = null)
        {
            EndLive();
            if (plain || colour is null)
            {
                output.WriteLine(text);
            }
            else
            {
                AnsiConsole.MarkupLine($"[{colour}]{Markup.Escape(text)}[/]");
            }
        }

        private void EndLive()
        {
            if (_live)
            {
                output.WriteLine();
                _live = false;
            }
        }

        private static string Phase(Proto.JobPhase phase) => phase.ToString().Replace("JOB_PHASE_", "", StringComparison.Ordinal).ToLowerInvariant();
    }
}
