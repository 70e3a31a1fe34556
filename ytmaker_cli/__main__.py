from ytmaker_cli import main

main()
