from funml.cli import main

main()
