from clir_bench.cli import main

main()
