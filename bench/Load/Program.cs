using Bench.Load;

// run: one table cell (warm-up, then a timed closed loop); hold: the many-slow-streams memory run;
// table: prints the results of a whole bench/run.sh as one table.
var options = new Options(args.Skip(1));
return args.FirstOrDefault() switch
{
    "run" => await LoadRun.RunAsync(options),
    "hold" => await HoldRun.RunAsync(options),
    "table" => Report.Print(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Load run|hold|table --name value ... (see bench/run.sh)");
    return 2;
}
